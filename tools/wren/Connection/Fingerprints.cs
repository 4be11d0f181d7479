using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Wren.Cli.Connection;

/// <summary>SHA-256 certificate fingerprints: parsing what people paste, computing them from certificates.</summary>
internal static class Fingerprints
{
    /// <summary>Uppercase hex without separators, or null when <paramref name="text"/> is not 32 bytes of hex.</summary>
    public static string? Normalize(string text)
    {
        string hex = text.Replace(":", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal).Trim().ToUpperInvariant();
        return hex.Length == 64 && hex.All(Uri.IsHexDigit) ? hex : null;
    }

    /// <summary>Uppercase hex pairs separated by colons, as the broker prints it.</summary>
    public static string Display(string normalized) => string.Join(':', normalized.Chunk(2).Select(c => new string(c)));

    /// <summary>The fingerprint of a certificate (SHA-256 of its DER encoding).</summary>
    public static string Of(X509Certificate certificate) => Convert.ToHexString(SHA256.HashData(certificate.GetRawCertData()));

    /// <summary>The fingerprint of the certificate in a password-less PKCS#12 file, such as the broker's dev-cert.pfx.</summary>
    public static string OfPfx(string path)
    {
        using var certificate = X509CertificateLoader.LoadPkcs12FromFile(path, password: null);
        return Of(certificate);
    }
}
