using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Wren.Broker.Core;

namespace Wren.Broker;

/// <summary>
/// The server certificate in force and the TLS settings of every handshake. The certificate can be replaced while the
/// broker runs (<see cref="Reload"/>): new handshakes use the new one, established connections keep theirs.
/// </summary>
internal sealed class ServerCertificates
{
    /// <summary>TLS 1.2 and 1.3 only; the OS (OpenSSL, SChannel) chooses between them and among their cipher suites.</summary>
    public const SslProtocols Protocols = SslProtocols.Tls12 | SslProtocols.Tls13;

    /// <summary>
    /// The cipher suites of <see cref="TlsOptions.RestrictCipherSuites"/> where the OS lets the application choose
    /// (Linux and macOS; Windows uses its own policy): AEAD suites with ephemeral key exchange only.
    /// </summary>
    private static readonly CipherSuitesPolicy? s_aeadCipherSuites = OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()
        ? new CipherSuitesPolicy(
        [
            TlsCipherSuite.TLS_AES_256_GCM_SHA384,
            TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
            TlsCipherSuite.TLS_AES_128_GCM_SHA256,
            TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            TlsCipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
            TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        ])
        : null;

    private readonly object _reloadLock = new();
    private readonly TlsOptions _options;
    private volatile Loaded _current;
    private FileStamp _stamp;

    public ServerCertificates(X509Certificate2 certificate, TlsOptions options, string path)
    {
        _options = options;
        Path = path;
        _current = new Loaded(certificate, SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true));
        _stamp = FileStamp.Of(path);
    }

    /// <summary>The file read on reload: the configured certificate, or the development certificate in the data directory.</summary>
    public string Path { get; }

    /// <summary>The certificate new handshakes use.</summary>
    public X509Certificate2 Certificate => _current.Certificate;

    /// <summary>The authentication options of one handshake: the current certificate, TLS 1.2/1.3, no client certificate.</summary>
    public SslServerAuthenticationOptions CreateAuthenticationOptions() => new()
    {
        ServerCertificateContext = _current.Context,
        EnabledSslProtocols = Protocols,
        ClientCertificateRequired = false,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        AllowRenegotiation = false,
        EncryptionPolicy = EncryptionPolicy.RequireEncryption,
        CipherSuitesPolicy = _options.RestrictCipherSuites ? s_aeadCipherSuites : null,
    };

    /// <summary>Describes the certificate in force.</summary>
    public CertificateInfo Describe()
    {
        var certificate = _current.Certificate;
        return new CertificateInfo(certificate.Subject, DevCertificate.Fingerprint(certificate), new DateTimeOffset(certificate.NotAfter.ToUniversalTime()).ToUnixTimeMilliseconds());
    }

    /// <summary>True when the file's modification time or size differs from the last load (or the last failed attempt).</summary>
    public bool FileChanged() => FileStamp.Of(Path) != _stamp;

    /// <summary>Reads <see cref="Path"/> again and makes it the certificate for new handshakes.</summary>
    /// <exception cref="HostOperationException">The file is missing, unreadable, has no private key or is expired; the current certificate stays.</exception>
    public CertificateInfo Reload()
    {
        lock (_reloadLock)
        {
            _stamp = FileStamp.Of(Path);
            X509Certificate2 certificate;
            try
            {
                certificate = Read(Path, _options);
            }
            catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
            {
                throw new HostOperationException($"the certificate file '{Path}' cannot be read ({ex.Message}); the current certificate stays in force", ex);
            }

            if (!certificate.HasPrivateKey)
            {
                certificate.Dispose();
                throw new HostOperationException($"the certificate file '{Path}' has no private key; the current certificate stays in force");
            }

            if (certificate.NotAfter.ToUniversalTime() <= DateTime.UtcNow || certificate.NotBefore.ToUniversalTime() > DateTime.UtcNow)
            {
                var notAfter = certificate.NotAfter;
                certificate.Dispose();
                throw new HostOperationException($"the certificate in '{Path}' is not valid now (valid until {notAfter:u}); the current certificate stays in force");
            }

            // The previous certificate is not disposed: established connections and handshakes in progress may still use it.
            _current = new Loaded(certificate, SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true));
            return Describe();
        }
    }

    /// <summary>Reads a PKCS#12 file, or a PEM file with the certificate and its key (the key in the same file or in <see cref="TlsOptions.CertificateKeyPath"/>).</summary>
    public static X509Certificate2 Read(string path, TlsOptions options)
    {
        bool pem;
        using (var file = File.OpenRead(path))
        {
            Span<byte> start = stackalloc byte[11];
            int read = file.ReadAtLeast(start, start.Length, throwOnEndOfStream: false);
            pem = start[..read].SequenceEqual("-----BEGIN "u8);
        }

        if (!pem)
        {
            return X509CertificateLoader.LoadPkcs12FromFile(path, options.CertificatePassword);
        }

        using var fromPem = string.IsNullOrEmpty(options.CertificatePassword)
            ? X509Certificate2.CreateFromPemFile(path, options.CertificateKeyPath)
            : X509Certificate2.CreateFromEncryptedPemFile(path, options.CertificatePassword, options.CertificateKeyPath);

        // Round-trip through PKCS#12 so the private key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(fromPem.Export(X509ContentType.Pkcs12), password: null);
    }

    private sealed record Loaded(X509Certificate2 Certificate, SslStreamCertificateContext Context);

    private readonly record struct FileStamp(DateTime WrittenUtc, long Length)
    {
        public static FileStamp Of(string path)
        {
            try
            {
                var info = new FileInfo(path);
                return info.Exists ? new FileStamp(info.LastWriteTimeUtc, info.Length) : default;
            }
            catch (IOException)
            {
                return default;
            }
        }
    }
}
