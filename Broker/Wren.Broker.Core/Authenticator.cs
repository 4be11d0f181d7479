using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Wren.Protocol;
using Wren.Storage;

namespace Wren.Broker.Core;

/// <summary>An issued device token: the secret is shown once and only its hash is stored.</summary>
/// <param name="Token">The secret to give to the device.</param>
/// <param name="User">The user.</param>
/// <param name="Device">The device the token authenticates.</param>
/// <param name="ExpiresMs">Expiry, Unix ms; 0 = never.</param>
public sealed record IssuedToken(string Token, UserRecord User, DeviceRecord Device, long ExpiresMs);

/// <summary>An access token with its refresh token, as a login or refresh issues them.</summary>
/// <param name="Access">The access (device) token.</param>
/// <param name="RefreshToken">The refresh secret (single use).</param>
/// <param name="RefreshExpiresMs">Expiry of the refresh token, Unix ms.</param>
public sealed record IssuedPair(IssuedToken Access, string RefreshToken, long RefreshExpiresMs);

/// <summary>The outcome of a login or refresh: a token pair, or an error to send.</summary>
/// <param name="Pair">The issued tokens on success.</param>
/// <param name="Error">The error code on failure.</param>
/// <param name="Message">The error text on failure (never says whether the user exists).</param>
/// <param name="RetryAfterMs">For RateLimited: when to try again.</param>
/// <param name="SubjectUserId">The user concerned, when known (for the audit log only).</param>
/// <param name="Audit">What to record in the audit log.</param>
public sealed record LoginResult(IssuedPair? Pair, ErrorCode Error, string Message, uint RetryAfterMs, ulong SubjectUserId, AuditAction Audit)
{
    internal static LoginResult Ok(IssuedPair pair, AuditAction audit = AuditAction.LoginSucceeded) =>
        new(pair, ErrorCode.None, "", 0, pair.Access.User.UserId, audit);

    internal static LoginResult Failed(ulong subject = 0, string message = "invalid credentials") =>
        new(null, ErrorCode.AuthFailed, message, 0, subject, AuditAction.LoginFailed);

    internal static LoginResult Throttled(long retryAfterMs) =>
        new(null, ErrorCode.RateLimited, "too many failed logins; retry later", (uint)Math.Clamp(retryAfterMs, 1, uint.MaxValue), 0, AuditAction.LoginThrottled);

    internal static LoginResult Busy() =>
        new(null, ErrorCode.RateLimited, "server busy; retry later", 1000, 0, AuditAction.LoginThrottled);
}

/// <summary>
/// Authentication: device tokens (256 random bits, SHA-256 stored), password and OIDC logins that issue a per-device
/// token pair, refresh with rotation and reuse detection, TOTP MFA, login throttling, and the periodic check that ends
/// sessions whose token expired.
/// </summary>
public sealed class Authenticator : IDisposable
{
    private const string Prefix = "wren_";
    private const string RefreshPrefix = "wrenr_";
    private readonly IUserStore _users;
    private readonly ICredentialStore? _credentials;
    private readonly TimeProvider _time;
    private readonly DeviceRegistry? _registry;
    private readonly ITimer? _sweep;

    /// <summary>Creates the authenticator with default settings and no session checks (token issue and checks only).</summary>
    public Authenticator(IUserStore users, TimeProvider time)
        : this(users, time, new AuthOptions(), registry: null)
    {
    }

    /// <summary>Creates the authenticator. With a registry, sessions whose token expired are closed periodically.</summary>
    /// <exception cref="ArgumentException">The options are out of range.</exception>
    /// <exception cref="InvalidOperationException">An OIDC issuer is misconfigured.</exception>
    public Authenticator(IUserStore users, TimeProvider time, AuthOptions options, DeviceRegistry? registry)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _users = users;
        _credentials = users as ICredentialStore;
        _time = time;
        _registry = registry;
        Options = options;
        Passwords = new PasswordHasher(options);
        Throttle = new LoginThrottle(options);
        Oidc = new OidcValidator(options.Oidc);
        if (registry is not null)
        {
            _sweep = time.CreateTimer(_ => Sweep(), null, options.SessionCheckInterval, options.SessionCheckInterval);
        }
    }

    /// <summary>The settings in force.</summary>
    public AuthOptions Options { get; }

    /// <summary>Password hashing.</summary>
    public PasswordHasher Passwords { get; }

    /// <summary>Failed-login throttling.</summary>
    public LoginThrottle Throttle { get; }

    /// <summary>OIDC token validation.</summary>
    public OidcValidator Oidc { get; }

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Issues a token for a new device of <paramref name="user"/>.</summary>
    public async ValueTask<IssuedToken> IssueAsync(UserRecord user, string deviceName, TimeSpan? lifetime = null)
    {
        var device = await _users.CreateDeviceAsync(user.UserId, deviceName).ConfigureAwait(false);
        return await IssueForDeviceAsync(user, device, lifetime).ConfigureAwait(false);
    }

    /// <summary>Issues another token for an existing device.</summary>
    public async ValueTask<IssuedToken> IssueForDeviceAsync(UserRecord user, DeviceRecord device, TimeSpan? lifetime = null)
    {
        var (token, record) = NewAccess(user, device, lifetime is { } l ? NowMs + (long)l.TotalMilliseconds : 0);
        await _users.StoreTokenAsync(record).ConfigureAwait(false);
        return new IssuedToken(token, user, device, record.ExpiresMs);
    }

    /// <summary>Issues an access token and a refresh token for a new device of <paramref name="user"/>.</summary>
    /// <exception cref="NotSupportedException">The store keeps no credentials.</exception>
    public async ValueTask<IssuedPair> IssuePairAsync(UserRecord user, string deviceName)
    {
        var credentials = _credentials ?? throw new NotSupportedException("The store keeps no credentials.");
        var device = await _users.CreateDeviceAsync(user.UserId, deviceName).ConfigureAwait(false);
        long now = NowMs;
        var (token, access) = NewAccess(user, device, now + (long)Options.AccessTokenLifetime.TotalMilliseconds);
        var (refresh, refreshRecord) = NewRefresh(access, now);
        await _users.StoreTokenAsync(access).ConfigureAwait(false);
        await credentials.StoreRefreshAsync(refreshRecord).ConfigureAwait(false);
        return new IssuedPair(new IssuedToken(token, user, device, access.ExpiresMs), refresh, refreshRecord.ExpiresMs);
    }

    /// <summary>The user and device a token authenticates, or null when it is unknown, revoked, expired or its user is disabled.</summary>
    public (UserRecord User, TokenRecord Token)? Authenticate(string token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 256)
        {
            return null;
        }

        var record = _users.FindToken(Hash(token));
        if (record is null || record.Revoked || (record.ExpiresMs != 0 && record.ExpiresMs <= NowMs))
        {
            return null;
        }

        var user = _users.GetUser(record.UserId);
        return user is null || user.Disabled ? null : (user, record);
    }

    /// <summary>
    /// Password login (plus a TOTP code when the account has MFA). Unknown users, wrong passwords and disabled users get
    /// the same answer after the same hashing cost; failures count towards the account's and the address's throttle.
    /// </summary>
    public async Task<LoginResult> PasswordLoginAsync(string userName, string password, string? totpCode, string? deviceName, string? address)
    {
        if (_credentials is null)
        {
            return LoginResult.Failed();
        }

        long wait = Throttle.RetryAfterMs(userName, address, NowMs);
        if (wait > 0)
        {
            return LoginResult.Throttled(wait);
        }

        var user = _users.FindUser(userName);
        var credentials = user is null ? null : _credentials.GetCredentials(user.UserId);
        var matched = await Passwords.VerifyAsync(password, credentials?.PasswordHash).ConfigureAwait(false);
        if (matched is null)
        {
            return LoginResult.Busy();
        }

        if (matched != true || user is null || credentials is null || user.Disabled)
        {
            Throttle.Failed(userName, address, NowMs);
            return LoginResult.Failed(user?.UserId ?? 0);
        }

        if (credentials.TotpEnabled)
        {
            if (string.IsNullOrEmpty(totpCode))
            {
                return LoginResult.Failed(user.UserId, "a TOTP code is required");
            }

            if (!await UseTotpCodeAsync(credentials, totpCode).ConfigureAwait(false))
            {
                Throttle.Failed(userName, address, NowMs);
                return LoginResult.Failed(user.UserId, "invalid TOTP code");
            }
        }

        Throttle.Succeeded(userName);
        var pair = await IssuePairAsync(user, string.IsNullOrEmpty(deviceName) ? "password login" : deviceName).ConfigureAwait(false);
        return LoginResult.Ok(pair);
    }

    /// <summary>OIDC login: a valid JWT of a configured issuer maps (through the configured claim) to a Wren user.</summary>
    public async Task<LoginResult> OidcLoginAsync(string jwt, string? deviceName, string? address)
    {
        long wait = Throttle.RetryAfterMs(null, address, NowMs);
        if (wait > 0)
        {
            return LoginResult.Throttled(wait);
        }

        var validated = Oidc.IsEnabled ? Oidc.Validate(jwt, _time.GetUtcNow(), out string reason) : null;
        if (validated is not { } ok)
        {
            Throttle.Failed(null, address, NowMs);
            return LoginResult.Failed();
        }

        var user = _users.FindUser(ok.UserName);
        if (user is null && ok.Issuer.AutoCreateUsers)
        {
            user = await _users.CreateUserAsync(ok.UserName, ok.UserName).ConfigureAwait(false) ?? _users.FindUser(ok.UserName);
        }

        if (user is null || user.Disabled)
        {
            Throttle.Failed(null, address, NowMs);
            return LoginResult.Failed(user?.UserId ?? 0);
        }

        var pair = await IssuePairAsync(user, string.IsNullOrEmpty(deviceName) ? "oidc login" : deviceName).ConfigureAwait(false);
        return LoginResult.Ok(pair);
    }

    /// <summary>
    /// Exchanges a refresh token for a new pair. The old access and refresh tokens are revoked and the sessions using
    /// the old access token (other than <paramref name="keep"/>) are closed. A refresh token that was already used
    /// revokes every token of its device and closes the device's sessions.
    /// </summary>
    /// <param name="refreshToken">The refresh secret.</param>
    /// <param name="address">The client's address, for throttling.</param>
    /// <param name="userId">When non-zero, the token must belong to this user.</param>
    /// <param name="keep">A session that switches to the new token and stays open.</param>
    public async Task<LoginResult> RefreshAsync(string refreshToken, string? address, ulong userId = 0, Session? keep = null)
    {
        if (_credentials is null || string.IsNullOrEmpty(refreshToken) || refreshToken.Length > 256)
        {
            return LoginResult.Failed();
        }

        long now = NowMs;
        long wait = Throttle.RetryAfterMs(null, address, now);
        if (wait > 0)
        {
            return LoginResult.Throttled(wait);
        }

        var hash = Hash(refreshToken);
        var old = _credentials.FindRefresh(hash);
        var user = old is null ? null : _users.GetUser(old.UserId);
        if (old is null || old.ExpiresMs <= now || user is null || user.Disabled || (userId != 0 && old.UserId != userId))
        {
            Throttle.Failed(null, address, now);
            return LoginResult.Failed(user?.UserId ?? 0);
        }

        var device = _users.ListDevices(user.UserId).FirstOrDefault(d => d.DeviceId == old.DeviceId)
            ?? new DeviceRecord(user.UserId, old.DeviceId, "", 0);
        var (token, access) = NewAccess(user, device, now + (long)Options.AccessTokenLifetime.TotalMilliseconds);
        var (refresh, refreshRecord) = NewRefresh(access, now);
        var outcome = await _credentials.RotateRefreshAsync(hash, now, access, refreshRecord).ConfigureAwait(false);
        switch (outcome)
        {
            case RefreshOutcome.Rotated:
                CloseSessions(user.UserId, device.DeviceId, old.AccessTokenHash, keep, "token refreshed");
                return LoginResult.Ok(new IssuedPair(new IssuedToken(token, user, device, access.ExpiresMs), refresh, refreshRecord.ExpiresMs), AuditAction.TokenRefreshed);
            case RefreshOutcome.Reused:
                CloseSessions(user.UserId, device.DeviceId, tokenHash: null, keep: null, "refresh token reused; the device's tokens are revoked");
                return new LoginResult(null, ErrorCode.AuthFailed, "invalid credentials", 0, user.UserId, AuditAction.TokenRevoked);
            default:
                Throttle.Failed(null, address, now);
                return LoginResult.Failed(user.UserId);
        }
    }

    /// <summary>Revokes every token of a device (logout) and closes its sessions other than <paramref name="keep"/>.</summary>
    public async Task LogoutAsync(ulong userId, uint deviceId, Session? keep = null)
    {
        if (_credentials is not null)
        {
            await _credentials.RevokeDeviceAsync(userId, deviceId).ConfigureAwait(false);
        }
        else
        {
            foreach (var token in _users.ListTokens(userId).Where(t => t.DeviceId == deviceId && !t.Revoked))
            {
                await _users.RevokeTokenAsync(token.TokenHash).ConfigureAwait(false);
            }
        }

        CloseSessions(userId, deviceId, tokenHash: null, keep, "logged out");
    }

    /// <summary>Checks a user's current password (a dummy hash when none is set: the answer is then false).</summary>
    public async Task<bool?> CheckPasswordAsync(ulong userId, string password)
    {
        var stored = _credentials?.GetCredentials(userId).PasswordHash;
        return await Passwords.VerifyAsync(password, stored).ConfigureAwait(false);
    }

    /// <summary>True when the user has a password.</summary>
    public bool HasPassword(ulong userId) => _credentials?.GetCredentials(userId).PasswordHash is not null;

    /// <summary>Hashes and stores a new password. Returns an error code (None on success).</summary>
    public async Task<(ErrorCode Code, string Message)> SetPasswordAsync(ulong userId, string password)
    {
        if (_credentials is null)
        {
            return (ErrorCode.UnsupportedOperation, "this server keeps no passwords");
        }

        if (password.Length < Options.MinPasswordLength)
        {
            return (ErrorCode.InvalidArgument, $"the password needs at least {Options.MinPasswordLength} characters");
        }

        var hash = await Passwords.HashAsync(password).ConfigureAwait(false);
        if (hash is null)
        {
            return (ErrorCode.RateLimited, "server busy; retry later");
        }

        await _credentials.SetPasswordHashAsync(userId, hash).ConfigureAwait(false);
        return (ErrorCode.None, "");
    }

    /// <summary>The user's stored credentials (empty when the store keeps none).</summary>
    public CredentialRecord Credentials(ulong userId) => _credentials?.GetCredentials(userId) ?? new CredentialRecord(userId, null, null, false, 0);

    /// <summary>Starts TOTP enrollment: a new secret, stored but not yet required.</summary>
    public async Task<byte[]?> BeginTotpAsync(ulong userId)
    {
        if (_credentials is null)
        {
            return null;
        }

        var secret = TotpCodes.NewSecret();
        await _credentials.SetTotpAsync(userId, secret, enabled: false).ConfigureAwait(false);
        return secret;
    }

    /// <summary>Turns MFA on or off. Off clears the secret.</summary>
    public async Task SetTotpEnabledAsync(ulong userId, byte[]? secret, bool enabled)
    {
        if (_credentials is not null)
        {
            await _credentials.SetTotpAsync(userId, enabled ? secret : null, enabled).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Accepts a code for the user's secret when it matches the current step ±1 and its step is later than every step
    /// accepted before (so no code is ever accepted twice). The accepted step is stored durably.
    /// </summary>
    public async Task<bool> UseTotpCodeAsync(CredentialRecord credentials, string code)
    {
        if (_credentials is null || credentials.TotpSecret is null)
        {
            return false;
        }

        var step = TotpCodes.MatchStep(credentials.TotpSecret, code, _time.GetUtcNow());
        return step is { } s && await _credentials.TryUseTotpStepAsync(credentials.UserId, s).ConfigureAwait(false);
    }

    /// <summary>
    /// Closes the live sessions of a user with SessionRevoked: all of them, those of one device, or those of one token.
    /// </summary>
    public void CloseSessions(ulong userId, uint deviceId, byte[]? tokenHash, Session? keep, string message)
    {
        if (_registry is null)
        {
            return;
        }

        foreach (var session in _registry.GetSessions(userId))
        {
            if (session != keep && (deviceId == 0 || session.DeviceId == deviceId)
                && (tokenHash is null || session.CredentialHash is null || session.CredentialHash.AsSpan().SequenceEqual(tokenHash)))
            {
                session.Fail(ErrorCode.SessionRevoked, message);
            }
        }
    }

    /// <summary>SHA-256 of the token's UTF-8 bytes: the key under which it is stored.</summary>
    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <inheritdoc/>
    public void Dispose()
    {
        _sweep?.Dispose();
        Passwords.Dispose();
        Oidc.Dispose();
    }

    private (string Token, TokenRecord Record) NewAccess(UserRecord user, DeviceRecord device, long expiresMs)
    {
        string token = Prefix + NewSecret();
        return (token, new TokenRecord(Hash(token), user.UserId, device.DeviceId, NowMs, expiresMs, Revoked: false));
    }

    private (string Token, RefreshRecord Record) NewRefresh(TokenRecord access, long now)
    {
        string token = RefreshPrefix + NewSecret();
        return (token, new RefreshRecord(Hash(token), access.UserId, access.DeviceId, access.TokenHash, now, now + (long)Options.RefreshTokenLifetime.TotalMilliseconds));
    }

    private static string NewSecret()
    {
        Span<byte> secret = stackalloc byte[32];
        RandomNumberGenerator.Fill(secret);
        return Base64Url.EncodeToString(secret);
    }

    /// <summary>Ends sessions whose credential expired; forgets old throttle entries.</summary>
    private void Sweep()
    {
        long now = NowMs;
        try
        {
            foreach (var session in _registry!.All())
            {
                long expires = session.CredentialExpiresMs;
                if (expires != 0 && expires <= now && !session.IsClosed)
                {
                    session.Fail(ErrorCode.SessionRevoked, "token expired");
                }
            }

            Throttle.Prune(now);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException)
        {
            // The registry or a connection changed during the walk; the next tick checks again.
        }
    }
}
