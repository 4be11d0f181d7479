using System.Diagnostics;
using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Wren.Cli.Connection;
using Wren.Protocol;
using Wren.Protocol.Messages;

namespace Wren.Cli.Doctor;

/// <summary>How a check came out.</summary>
internal enum CheckStatus
{
    Ok,
    Warning,
    Failed,
    Skipped,
}

/// <summary>One diagnostic: what was checked, how it went, and what to do about it.</summary>
/// <param name="Name">tcp, tls, protocol, clock, auth, role.</param>
/// <param name="Status">The outcome.</param>
/// <param name="Detail">What was found.</param>
/// <param name="Fix">What to do, when something is wrong.</param>
internal sealed record DoctorCheck(string Name, CheckStatus Status, string Detail, string? Fix = null);

/// <summary>
/// <c>wren doctor</c>'s checks, in the order a connection goes through them: TCP, TLS (certificate, expiry, pin),
/// protocol (Hello/Welcome), clock skew, authentication, role. A later check is skipped when an earlier one makes it
/// meaningless, and the token is never sent to a server whose certificate did not check out.
/// </summary>
internal sealed class DoctorRunner(ResolvedConnection connection)
{
    /// <summary>Skew up to this is fine.</summary>
    public static readonly TimeSpan SkewWarning = TimeSpan.FromSeconds(2);

    /// <summary>Skew beyond this fails: token expiries and message times are off by more than a minute.</summary>
    public static readonly TimeSpan SkewFailure = TimeSpan.FromSeconds(60);

    private static readonly string[] Order = ["tcp", "tls", "protocol", "clock", "auth"];

    private readonly List<DoctorCheck> _checks = [];

    public async Task<IReadOnlyList<DoctorCheck>> RunAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(connection.Timeout);
        var token = timeout.Token;
        string where = connection.Server.ToString();
        using var tcp = new TcpClient { NoDelay = true };
        var watch = Stopwatch.StartNew();
        try
        {
            await tcp.ConnectAsync(connection.Server.Host, connection.Server.Port, token).ConfigureAwait(false);
            Add("tcp", CheckStatus.Ok, string.Create(CultureInfo.InvariantCulture, $"connected to {where} in {watch.Elapsed.TotalMilliseconds:0} ms"));
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Add("tcp", CheckStatus.Failed, ex is SocketException { SocketErrorCode: SocketError.ConnectionRefused }
                    ? $"{where} refused the connection"
                    : $"cannot reach {where}: {(ex is OperationCanceledException ? "timed out" : ex.Message.TrimEnd('.'))}",
                "start the broker (./run.sh), or point --server / WREN_SERVER at where it listens");
            return SkipRest("tcp");
        }

        Stream stream = tcp.GetStream();
        bool trusted = true;
        if (connection.UseTls)
        {
            (stream, trusted) = await CheckTlsAsync(stream, token).ConfigureAwait(false) is { } tls ? tls : (null!, false);
            if (stream is null)
            {
                return SkipRest("tls");
            }
        }
        else
        {
            Add("tls", CheckStatus.Warning, "not used (--insecure-plaintext): traffic and the token travel in clear text", "use TLS outside local testing");
        }

        await using (stream.ConfigureAwait(false))
        {
            var frames = new FrameConnection(stream);
            Welcome welcome;
            long sentMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            try
            {
                await frames.SendAsync(1, new Hello { ClientName = "wren-doctor", ClientVersion = "1" }, token).ConfigureAwait(false);
                var answer = await frames.ReceiveAsync(token).ConfigureAwait(false);
                welcome = answer as Welcome ?? throw new InvalidDataException(answer is Error error ? $"{error.Code}: {error.Message}" : $"got {answer.Type} instead of Welcome");
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or OperationCanceledException or AuthenticationException)
            {
                cancellationToken.ThrowIfCancellationRequested();
                Add("protocol", CheckStatus.Failed, $"no Welcome from {where}: {(ex is OperationCanceledException ? "timed out" : ex.Message.TrimEnd('.'))}",
                    connection.UseTls ? "is this a Wren broker?" : "is this a Wren broker, and was it started with --plaintext? If not, drop --insecure-plaintext");
                return SkipRest("protocol");
            }

            long receivedMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            Add("protocol", CheckStatus.Ok, $"{welcome.ServerName} {welcome.ServerVersion}, protocol version {welcome.Version}, handshake timeout {welcome.Limits.HandshakeTimeoutMs / 1000} s");
            CheckClock(welcome.ServerTimeMs, sentMs, receivedMs);

            if (!trusted)
            {
                Add("auth", CheckStatus.Skipped, "the token is not sent to a server whose certificate did not check out");
                return _checks;
            }

            if (connection.Token is null)
            {
                Add("auth", CheckStatus.Skipped, "no token given", "pass --token or --token-file, set WREN_TOKEN, or run where data/admin.token is readable");
                return _checks;
            }

            await CheckAuthAsync(frames, token).ConfigureAwait(false);
        }

        return _checks;
    }

    /// <summary>Exit code: 3 when the broker cannot be reached, trusted or authenticated with; 1 for other failures.</summary>
    public static int ExitCode(IReadOnlyList<DoctorCheck> checks) =>
        checks.Any(c => c.Status == CheckStatus.Failed && c.Name is "tcp" or "tls" or "protocol" or "auth") ? ExitCodes.ConnectionFailed
        : checks.Any(c => c.Status == CheckStatus.Failed) ? ExitCodes.OperationFailed
        : ExitCodes.Success;

    private async Task<(Stream Stream, bool Trusted)?> CheckTlsAsync(Stream inner, CancellationToken cancellationToken)
    {
        X509Certificate2? presented = null;
        var errors = SslPolicyErrors.None;
        // The handshake accepts any certificate so the doctor can show what the broker presents and then decide
        // below; nothing secret is sent unless that decision is "trusted" (the token is withheld otherwise).
#pragma warning disable CA5359
        var tls = new SslStream(inner, leaveInnerStreamOpen: false, (_, certificate, _, policyErrors) =>
        {
            presented = certificate is null ? null : new X509Certificate2(certificate);
            errors = policyErrors;
            return true;
        });
#pragma warning restore CA5359
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = connection.Server.Host }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or OperationCanceledException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await tls.DisposeAsync().ConfigureAwait(false);
            Add("tls", CheckStatus.Failed, $"TLS handshake failed: {(ex is OperationCanceledException ? "timed out" : (ex.InnerException ?? ex).Message.TrimEnd('.'))}",
                "was the broker started with --plaintext? Then pass --insecure-plaintext (local testing only)");
            return null;
        }

        using (presented)
        {
            if (presented is null)
            {
                Add("tls", CheckStatus.Failed, "the broker presented no certificate");
                return (tls, false);
            }

            string fingerprint = Fingerprints.Of(presented);
            string subject = presented.Subject;
            var expires = presented.NotAfter.ToUniversalTime();
            var left = expires - DateTime.UtcNow;
            string expiry = left <= TimeSpan.Zero
                ? $"expired {expires:yyyy-MM-dd}"
                : string.Create(CultureInfo.InvariantCulture, $"expires {expires:yyyy-MM-dd} (in {(int)left.TotalDays} days)");
            string about = $"{subject}, SHA-256 {Fingerprints.Display(fingerprint)}, {expiry}";

            bool trusted;
            if (connection.Fingerprint is { } pinned)
            {
                trusted = string.Equals(pinned, fingerprint, StringComparison.OrdinalIgnoreCase);
                Add("tls", trusted ? CheckStatus.Ok : CheckStatus.Failed,
                    trusted ? $"{about}; matches the pin from {connection.FingerprintOrigin}" : $"{about}; does NOT match the pin {Fingerprints.Display(pinned)} from {connection.FingerprintOrigin}",
                    trusted ? null : "if the broker has a new certificate, confirm the fingerprint it printed at start on its host and pin that one; otherwise this is not your broker");
            }
            else
            {
                trusted = errors == SslPolicyErrors.None;
                Add("tls", trusted ? CheckStatus.Ok : CheckStatus.Failed,
                    trusted ? $"{about}; trusted by this machine's CA store" : $"{about}; not trusted ({errors}) and no fingerprint pinned",
                    trusted ? null : "pin it: --fingerprint (printed by the broker at start), WREN_FINGERPRINT, or --data-dir DIR for a local broker's dev-cert.pfx");
            }

            if (trusted && left <= TimeSpan.Zero)
            {
                Add("certificate", CheckStatus.Failed, $"the certificate expired on {expires:yyyy-MM-dd}",
                    "restart the broker to renew its development certificate, or install a new one (Wren:Tls:CertificatePath) and restart");
            }
            else if (trusted && left < TimeSpan.FromDays(14))
            {
                Add("certificate", CheckStatus.Warning, string.Create(CultureInfo.InvariantCulture, $"the certificate expires in {(int)left.TotalDays} days"),
                    "renew it: the broker regenerates its development certificate at start within 7 days of expiry; replace a configured one and restart");
            }

            return (tls, trusted);
        }
    }

    private void CheckClock(long serverMs, long sentMs, long receivedMs)
    {
        long skewMs = serverMs - (sentMs + receivedMs) / 2;
        var skew = TimeSpan.FromMilliseconds(Math.Abs(skewMs));
        string direction = skewMs > 0 ? "behind" : "ahead of";
        string detail = string.Create(CultureInfo.InvariantCulture, $"this machine's clock is {skew.TotalSeconds:0.0} s {direction} the broker's (round trip {receivedMs - sentMs} ms)");
        if (skew <= SkewWarning)
        {
            Add("clock", CheckStatus.Ok, detail);
        }
        else
        {
            Add("clock", skew <= SkewFailure ? CheckStatus.Warning : CheckStatus.Failed, detail,
                "synchronise both clocks with NTP (e.g. `timedatectl set-ntp true`): message times and token expiry are computed on the broker");
        }
    }

    private async Task CheckAuthAsync(FrameConnection frames, CancellationToken cancellationToken)
    {
        IMessage answer;
        try
        {
            await frames.SendAsync(2, new Auth { Method = AuthMethod.Token, Token = connection.Token }, cancellationToken).ConfigureAwait(false);
            answer = await frames.ReceiveAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or OperationCanceledException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Add("auth", CheckStatus.Failed, $"no answer to Auth: {ex.Message.TrimEnd('.')}");
            return;
        }

        if (answer is not AuthOk ok)
        {
            string reason = answer is Error error ? (error.Code == ErrorCode.AuthFailed ? "rejected" : $"{error.Code}: {error.Message}") : $"unexpected {answer.Type}";
            Add("auth", CheckStatus.Failed, $"the token from {connection.TokenOrigin} was {reason}: wrong, expired or revoked, or its user is disabled",
                "issue a new one with `wren token issue USER --device NAME` (administrator), or enable the user with `wren user enable USER`");
            return;
        }

        var left = ok.ExpiresMs == 0 ? (TimeSpan?)null : DateTimeOffset.FromUnixTimeMilliseconds(ok.ExpiresMs) - DateTimeOffset.UtcNow;
        string expiry = left is null ? "never expires" : string.Create(CultureInfo.InvariantCulture, $"expires in {Math.Max(0, left.Value.TotalDays):0.#} days");
        Add("auth", left is { TotalDays: < 7 } ? CheckStatus.Warning : CheckStatus.Ok,
            $"authenticated as {ok.UserName} (user {ok.UserId}, device {ok.DeviceId}) with the token from {connection.TokenOrigin}; it {expiry}",
            left is { TotalDays: < 7 } ? "issue a new token before this one expires: `wren token issue USER --device NAME`" : null);

        try
        {
            await frames.SendAsync(3, new AdminStats(), cancellationToken).ConfigureAwait(false);
            var stats = await frames.ReceiveAsync(cancellationToken).ConfigureAwait(false);
            Add("role", CheckStatus.Ok, stats is AdminStatsResult
                ? "administrator: admin commands work from here"
                : "not an administrator here (chat, send and tail work; user and token commands need an administrator's token on the broker's host)");
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or OperationCanceledException)
        {
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    private List<DoctorCheck> SkipRest(string failed)
    {
        foreach (var name in Order.SkipWhile(n => n != failed).Skip(1))
        {
            if (name == "tls" && !connection.UseTls)
            {
                continue;
            }

            Add(name, CheckStatus.Skipped, $"not checked: {failed} failed");
        }

        return _checks;
    }

    private void Add(string name, CheckStatus status, string detail, string? fix = null) => _checks.Add(new DoctorCheck(name, status, detail, fix));
}
