using System.Security.Cryptography;
using Wren.Client;

namespace Wren.Cli.Connection;

/// <summary>Which token a command needs.</summary>
internal enum TokenUse
{
    /// <summary>An administrator's: falls back to the local broker's DATA_DIR/admin.token.</summary>
    Admin,

    /// <summary>A user's own device token: must be given (flag, file or WREN_TOKEN).</summary>
    User,

    /// <summary>Any token if one is available (doctor): falls back to DATA_DIR/admin.token, else none.</summary>
    Optional,
}

/// <summary>The broker to connect to and how, with where each setting came from (for messages).</summary>
internal sealed record ResolvedConnection(
    ServerAddress Server,
    string? Token,
    string TokenOrigin,
    string? Fingerprint,
    string FingerprintOrigin,
    bool UseTls,
    TimeSpan Timeout)
{
    /// <summary>SDK options for this connection.</summary>
    public WrenClientOptions ToClientOptions(bool autoReconnect = false, bool autoAck = false) => new()
    {
        Host = Server.Host,
        Port = Server.Port,
        UseTls = UseTls,
        PinnedFingerprint = Fingerprint,
        Token = Token ?? "",
        ClientName = "wren-cli",
        RequestTimeout = Timeout,
        AutoReconnect = autoReconnect,
        AutoAck = autoAck,
    };
}

/// <summary>
/// Resolves connection settings in priority order: flags, then WREN_SERVER / WREN_TOKEN / WREN_FINGERPRINT, then the
/// files a local broker wrote into its data directory (admin.token, dev-cert.pfx). Reads those files only; it never
/// uses broker code.
/// </summary>
internal static class ConnectionResolver
{
    public const string AdminTokenFile = "admin.token";
    public const string DevCertificateFile = "dev-cert.pfx";

    public static ResolvedConnection Resolve(ConnectionSettings settings, CliHost host, TokenUse use)
    {
        var server = settings.Server is { Length: > 0 } flag ? ServerAddress.Parse(flag, "--server")
            : host.GetVariable("WREN_SERVER") is { } env ? ServerAddress.Parse(env, "WREN_SERVER")
            : ServerAddress.Default;

        string? dataDirectory = DataDirectory(settings, host);
        var (token, tokenOrigin) = ResolveToken(settings, host, use, dataDirectory);
        string? fingerprint = null;
        string fingerprintOrigin = "none";
        if (!settings.InsecurePlaintext)
        {
            (fingerprint, fingerprintOrigin) = ResolveFingerprint(settings, host, dataDirectory);
        }

        return new ResolvedConnection(server, token, tokenOrigin, fingerprint, fingerprintOrigin, !settings.InsecurePlaintext, TimeSpan.FromSeconds(settings.TimeoutSeconds));
    }

    private static string? DataDirectory(ConnectionSettings settings, CliHost host)
    {
        if (settings.DataDirectory is { Length: > 0 } given)
        {
            string path = host.ResolvePath(given);
            return Directory.Exists(path) ? path : throw CliException.Usage($"--data-dir '{given}' does not exist");
        }

        string fallback = host.ResolvePath("data");
        return Directory.Exists(fallback) ? fallback : null;
    }

    private static (string? Token, string Origin) ResolveToken(ConnectionSettings settings, CliHost host, TokenUse use, string? dataDirectory)
    {
        if (settings.Token is not null && settings.TokenFile is not null)
        {
            throw CliException.Usage("give either --token or --token-file, not both");
        }

        if (settings.Token is not null)
        {
            return (settings.Token.Trim().Length > 0 ? settings.Token.Trim() : throw CliException.Usage("--token is empty"), "--token");
        }

        if (settings.TokenFile is not null)
        {
            return (ReadTokenFile(host.ResolvePath(settings.TokenFile), settings.TokenFile, ExitCodes.BadArguments), settings.TokenFile);
        }

        if (host.GetVariable("WREN_TOKEN") is { } env)
        {
            return (env.Trim(), "WREN_TOKEN");
        }

        if (use is TokenUse.Admin or TokenUse.Optional && dataDirectory is not null)
        {
            string path = Path.Combine(dataDirectory, AdminTokenFile);
            if (File.Exists(path))
            {
                return (ReadTokenFile(path, path, ExitCodes.ConnectionFailed), path);
            }
        }

        return use switch
        {
            TokenUse.Admin => throw CliException.Usage(
                "no administrator token: pass --token, --token-file or set WREN_TOKEN, or run from the directory holding the broker's data/ (or pass --data-dir) so data/admin.token is used"),
            TokenUse.User => throw CliException.Usage(
                "no token: pass --token TOKEN or --token-file FILE (from `wren token issue USER --device NAME`), or set WREN_TOKEN"),
            _ => (null, "none"),
        };
    }

    private static string ReadTokenFile(string path, string shown, int missingExitCode)
    {
        try
        {
            string token = File.ReadAllText(path).Trim();
            return token.Length > 0 ? token : throw CliException.Usage($"token file '{shown}' is empty");
        }
        catch (FileNotFoundException)
        {
            throw new CliException(missingExitCode, $"token file '{shown}' does not exist");
        }
        catch (DirectoryNotFoundException)
        {
            throw new CliException(missingExitCode, $"token file '{shown}' does not exist");
        }
        catch (UnauthorizedAccessException)
        {
            throw CliException.Connection($"cannot read '{shown}': permission denied (it is readable only by the user that started the broker)");
        }
    }

    private static (string? Fingerprint, string Origin) ResolveFingerprint(ConnectionSettings settings, CliHost host, string? dataDirectory)
    {
        if (settings.Fingerprint is not null)
        {
            return (Fingerprints.Normalize(settings.Fingerprint) ?? throw InvalidFingerprint("--fingerprint"), "--fingerprint");
        }

        if (host.GetVariable("WREN_FINGERPRINT") is { } env)
        {
            return (Fingerprints.Normalize(env) ?? throw InvalidFingerprint("WREN_FINGERPRINT"), "WREN_FINGERPRINT");
        }

        if (dataDirectory is not null)
        {
            string path = Path.Combine(dataDirectory, DevCertificateFile);
            if (File.Exists(path))
            {
                try
                {
                    return (Fingerprints.OfPfx(path), path);
                }
                catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
                {
                    throw CliException.Connection($"cannot read the certificate '{path}' ({ex.Message.TrimEnd('.')}); pass --fingerprint instead");
                }
            }
        }

        return (null, "none");
    }

    private static CliException InvalidFingerprint(string origin) =>
        CliException.Usage($"{origin} is not a SHA-256 fingerprint: expected 64 hex digits, colons optional (the broker prints it at start)");
}
