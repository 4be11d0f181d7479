using System.ComponentModel.DataAnnotations;
using Wren.Broker.Core;
using Wren.Storage;

namespace Wren.Broker;

/// <summary>Broker options, bound from the "Wren" section (appsettings.json, WREN__ environment variables, command line).</summary>
public sealed class WrenOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "Wren";

    /// <summary>Where RocksDB, the dev certificate and the bootstrap admin token live. Default ./data.</summary>
    [Required]
    public string DataDirectory { get; set; } = "./data";

    /// <summary>Address to listen on. Default 127.0.0.1: a development broker is not exposed until the operator says so.</summary>
    [Required]
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks a free one (tests). Default 7400.</summary>
    [Range(0, 65535)]
    public int Port { get; set; } = 7400;

    /// <summary>TLS settings.</summary>
    public TlsOptions Tls { get; set; } = new();

    /// <summary>At-rest encryption of message bodies.</summary>
    public AtRestOptions AtRest { get; set; } = new();

    /// <summary>Sync (ack after fsync, default) or Async (ack after the OS has the write; loses the last moments on power failure).</summary>
    public DurabilityMode Durability { get; set; } = DurabilityMode.Sync;

    /// <summary>
    /// Connections in total. Default 15,000: the process may hold 20,000 open files, and RocksDB, logs and the
    /// runtime need the rest.
    /// </summary>
    [Range(1, 19_000)]
    public int MaxConnections { get; set; } = 15_000;

    /// <summary>Connections from one client address. Default 1,000: a NAT of a large office fits; a single flooding host does not take the server.</summary>
    [Range(1, 19_000)]
    public int MaxConnectionsPerAddress { get; set; } = 1000;

    /// <summary>
    /// Kernel send buffer of each client socket (SO_SNDBUF; the kernel doubles it), 0 = the OS's autotuning (up to
    /// net.ipv4.tcp_wmem's maximum, 4 MiB here). Default 256 KiB: a device that stops reading makes the broker encrypt
    /// and hold at most this much beyond its outbound queue, while a 100 ms round trip still carries about 5 MB/s.
    /// </summary>
    [Range(0, 64 * 1024 * 1024)]
    public int SocketSendBufferBytes { get; set; } = 256 * 1024;

    /// <summary>Pending connections the kernel queues before the broker accepts them (capped by net.core.somaxconn).</summary>
    [Range(16, 65_535)]
    public int ListenBacklog { get; set; } = 1024;

    /// <summary>Largest frame length field. Default 1 MiB (see docs/protocol.md, Limits).</summary>
    [Range(1024, 16 * 1024 * 1024)]
    public int MaxFrameLength { get; set; } = 1024 * 1024;

    /// <summary>Routing-core limits (slow consumers, timeouts, sync batch, group size, rates).</summary>
    public BrokerLimits Limits { get; set; } = new();

    /// <summary>Authentication: token lifetimes, password hashing (Argon2id), login throttling (section <c>Wren:Auth</c>).</summary>
    public AuthOptions Auth { get; set; } = new();

    /// <summary>OpenID Connect issuers accepted at login (section <c>Wren:Oidc</c>); the same object as <c>Auth.Oidc</c>.</summary>
    public OidcOptions Oidc
    {
        get => Auth.Oidc;
        set => Auth.Oidc = value;
    }

    /// <summary>Test-only switches that break the broker's guarantees on purpose. Never set them in production.</summary>
    public TestingOptions Testing { get; set; } = new();
}

/// <summary>
/// Test-only switches (section <c>Wren:Testing</c>). Each one breaks a guarantee on purpose so that a test can prove
/// its checker notices; the broker logs a warning at start when any is on.
/// </summary>
public sealed class TestingOptions
{
    /// <summary>
    /// Acknowledge each Send before its write is durable: the store acknowledges a batch, holds it back for 200 ms and
    /// only then writes it, so a SIGKILL loses acknowledged messages. Default false. It exists only to prove that the
    /// crash harness (tools/crash) detects lost acknowledgements (its negative control); never enable it elsewhere.
    /// </summary>
    public bool AckBeforeDurable { get; set; }
}

/// <summary>TLS settings.</summary>
public sealed class TlsOptions
{
    /// <summary>TLS on the client port. Default true; plaintext exists only for local testing.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>PFX/PKCS#12 file with the server certificate and key; when empty, a development certificate is generated into the data directory.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>Password of the certificate file, if any.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>For a PEM certificate file: the PEM file with its private key, when the key is not in the certificate file.</summary>
    public string? CertificateKeyPath { get; set; }

    /// <summary>
    /// How often the certificate file is checked for changes (modification time and size); a changed file is loaded
    /// for new connections, live ones keep theirs. Default 1 minute: a renewed certificate is in use within a minute at
    /// the cost of one stat call. Zero turns the check off (reload then happens on SIGHUP or `wren tls reload`).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan ReloadCheckInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Offer only AEAD cipher suites with ephemeral key exchange (Linux and macOS). Default false: the OS's default
    /// list, which on Debian's OpenSSL 3 also has TLS 1.2 CBC-SHA256/384 suites (flagged "potentially LUCKY13" by
    /// testssl.sh). Turning it on costs memory and CPU per connection: .NET then builds one TLS context per connection
    /// instead of sharing one, and TLS session resumption is off.
    /// </summary>
    public bool RestrictCipherSuites { get; set; }
}

/// <summary>At-rest encryption settings (section <c>Wren:AtRest</c>).</summary>
public sealed class AtRestOptions
{
    /// <summary>
    /// Seal message bodies with AES-256-GCM. Default false: the disk is trusted or encrypted below. When true and the
    /// data directory has no key ring, one is created with key 1. A data directory that has a key ring (created here or
    /// by `wren keys rotate`) is always encrypted for new writes, whatever this says, so that no key is ever dropped.
    /// </summary>
    public bool Encrypt { get; set; }
}
