using Wren.Protocol.Messages;

namespace Wren.Client;

/// <summary>Account operations: logins that issue tokens, refresh, logout, password and TOTP MFA.</summary>
public sealed partial class WrenClient
{
    /// <summary>Margin before the access token's expiry from which a reconnect uses the refresh token instead.</summary>
    private static readonly TimeSpan RefreshMargin = TimeSpan.FromSeconds(30);

    /// <summary>Expiry of the access token in use, Unix ms; 0 = never or unknown.</summary>
    private long _accessExpiresMs;

    /// <summary>
    /// Exchanges the current refresh token for a new pair; the connection stays open on the new token and reconnects use
    /// it. The old pair stops working (reusing the old refresh token revokes the device's tokens).
    /// </summary>
    /// <exception cref="InvalidOperationException">No refresh token is known.</exception>
    public async Task<TokenPair> RefreshAsync(CancellationToken cancellationToken = default)
    {
        string refresh = _options.RefreshToken ?? throw new InvalidOperationException("No refresh token: log in with a password or OIDC token first.");
        var pair = await RequestAsync<TokenPair>(new RefreshSession { RefreshToken = refresh }, cancellationToken).ConfigureAwait(false);
        _options.Token = pair.AccessToken;
        _options.RefreshToken = pair.RefreshToken;
        Volatile.Write(ref _accessExpiresMs, pair.ExpiresMs);
        _options.TokensIssued?.Invoke(pair);
        return pair;
    }

    /// <summary>Revokes this device's tokens on the server and closes the client (it does not reconnect).</summary>
    public async Task LogoutAsync(CancellationToken cancellationToken = default)
    {
        await RequestAsync<EmptyMessage>(new Logout(), cancellationToken).ConfigureAwait(false);
        _options.Token = "";
        _options.RefreshToken = null;
        await DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Changes the caller's password; <paramref name="currentPassword"/> must match (empty when none is set yet).</summary>
    public Task ChangePasswordAsync(string currentPassword, string newPassword, CancellationToken cancellationToken = default) =>
        RequestAsync<EmptyMessage>(new ChangePassword { CurrentPassword = currentPassword, NewPassword = newPassword }, cancellationToken);

    /// <summary>Starts TOTP enrollment: the secret and otpauth:// URI to put into an authenticator app.</summary>
    public Task<TotpEnrollment> TotpEnrollAsync(string? issuer = null, CancellationToken cancellationToken = default) =>
        RequestAsync<TotpEnrollment>(new TotpEnroll { Issuer = issuer ?? "" }, cancellationToken);

    /// <summary>Confirms enrollment with a current code; password logins then need a code.</summary>
    public Task TotpConfirmAsync(string code, CancellationToken cancellationToken = default) =>
        RequestAsync<EmptyMessage>(new TotpConfirm { Code = code }, cancellationToken);

    /// <summary>Turns the caller's MFA off; needs a current code.</summary>
    public Task TotpDisableAsync(string code, CancellationToken cancellationToken = default) =>
        RequestAsync<EmptyMessage>(new TotpDisable { Code = code }, cancellationToken);

    /// <summary>Administrators: sets a user's password and/or turns the user's MFA off.</summary>
    public Task AdminSetPasswordAsync(string userName, string? password, bool disableMfa = false, CancellationToken cancellationToken = default) =>
        RequestAsync<EmptyMessage>(new AdminSetPassword { UserName = userName, Password = password ?? "", DisableMfa = disableMfa }, cancellationToken);

    /// <summary>
    /// The Auth frame for the configured credential: the token (unless it expires within 30 s and a refresh token is
    /// known: then the refresh token, which rotates the pair), refresh token, OIDC token, or password.
    /// </summary>
    private Auth BuildAuth()
    {
        string device = string.IsNullOrEmpty(_options.DeviceName) ? _options.ClientName : _options.DeviceName;
        long expires = Volatile.Read(ref _accessExpiresMs);
        bool expiring = expires != 0 && DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() >= expires - (long)RefreshMargin.TotalMilliseconds;
        if (!string.IsNullOrEmpty(_options.Token) && !(expiring && !string.IsNullOrEmpty(_options.RefreshToken)))
        {
            return new Auth { Method = AuthMethod.Token, Token = _options.Token };
        }

        if (!string.IsNullOrEmpty(_options.RefreshToken))
        {
            return new Auth { Method = AuthMethod.RefreshToken, Token = _options.RefreshToken };
        }

        if (!string.IsNullOrEmpty(_options.OidcToken))
        {
            return new Auth { Method = AuthMethod.OidcToken, Token = _options.OidcToken, DeviceName = device };
        }

        if (!string.IsNullOrEmpty(_options.UserName) && !string.IsNullOrEmpty(_options.Password))
        {
            return new Auth { Method = AuthMethod.Password, UserName = _options.UserName, Password = _options.Password, TotpCode = _options.TotpCode, DeviceName = device };
        }

        return new Auth { Method = AuthMethod.Token, Token = _options.Token };
    }

    /// <summary>Keeps a token pair the server issued at login, so reconnects authenticate with it, and drops the one-time credentials.</summary>
    private void AdoptIssuedTokens(AuthOk ok)
    {
        Volatile.Write(ref _accessExpiresMs, ok.ExpiresMs);
        if (string.IsNullOrEmpty(ok.IssuedToken))
        {
            return;
        }

        _options.Token = ok.IssuedToken;
        _options.RefreshToken = ok.RefreshToken;
        _options.Password = null;
        _options.TotpCode = null;
        _options.OidcToken = null;
        _options.TokensIssued?.Invoke(new TokenPair
        {
            AccessToken = ok.IssuedToken,
            ExpiresMs = ok.ExpiresMs,
            RefreshToken = ok.RefreshToken ?? "",
            RefreshExpiresMs = ok.RefreshExpiresMs,
        });
    }
}
