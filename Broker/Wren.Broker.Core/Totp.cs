using OtpNet;

namespace Wren.Broker.Core;

/// <summary>RFC 6238 time-based one-time codes: SHA-1, 6 digits, 30 s steps, one step of drift either way.</summary>
public static class TotpCodes
{
    /// <summary>Seconds per step.</summary>
    public const int StepSeconds = 30;

    /// <summary>A new 160-bit secret (the RFC 4226 recommended length for SHA-1).</summary>
    public static byte[] NewSecret() => KeyGeneration.GenerateRandomKey(20);

    /// <summary>The secret in Base32 without padding, as authenticator apps take it.</summary>
    public static string ToBase32(byte[] secret) => Base32Encoding.ToString(secret).TrimEnd('=');

    /// <summary>The otpauth:// URI for an authenticator app.</summary>
    public static string Uri(string issuer, string account, byte[] secret)
    {
        string label = System.Uri.EscapeDataString(issuer) + ":" + System.Uri.EscapeDataString(account);
        return $"otpauth://totp/{label}?secret={ToBase32(secret)}&issuer={System.Uri.EscapeDataString(issuer)}&algorithm=SHA1&digits=6&period={StepSeconds}";
    }

    /// <summary>The time step a code matches at <paramref name="utcNow"/> (±1 step), or null when it matches none.</summary>
    public static long? MatchStep(byte[] secret, string? code, DateTimeOffset utcNow)
    {
        if (code is not { Length: 6 } || !code.All(char.IsAsciiDigit))
        {
            return null;
        }

        var totp = new Totp(secret, StepSeconds, OtpHashMode.Sha1, 6);
        return totp.VerifyTotp(utcNow.UtcDateTime, code, out long step, new VerificationWindow(previous: 1, future: 1)) ? step : null;
    }
}
