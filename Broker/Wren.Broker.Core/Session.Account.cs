using System.Net;
using Wren.Protocol;
using Wren.Protocol.Messages;

namespace Wren.Broker.Core;

/// <summary>Account and security operations of an authenticated session: logout, refresh, password, TOTP MFA.</summary>
public sealed partial class Session
{
    /// <summary>The client's IP address without the port: the key of per-address login throttling.</summary>
    private string ClientAddress =>
        IPEndPoint.TryParse(Sink.RemoteAddress, out var endPoint) ? endPoint.Address.ToString() : Sink.RemoteAddress;

    private async Task AccountAsync(IMessage message, uint requestId)
    {
        switch (message)
        {
            case Logout:
                await LogoutAsync(requestId).ConfigureAwait(false);
                break;
            case RefreshSession refresh:
                await RefreshSessionAsync(refresh, requestId).ConfigureAwait(false);
                break;
            case ChangePassword change:
                await ChangePasswordAsync(change, requestId).ConfigureAwait(false);
                break;
            case TotpEnroll enroll:
                await TotpEnrollAsync(enroll, requestId).ConfigureAwait(false);
                break;
            case TotpConfirm confirm:
                await TotpConfirmAsync(confirm, requestId).ConfigureAwait(false);
                break;
            case TotpDisable disable:
                await TotpDisableAsync(disable, requestId).ConfigureAwait(false);
                break;
            case AdminSetPassword set:
                await AdminSetPasswordAsync(set, requestId).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>Revokes the device's tokens, answers Ok and closes every session of the device (this one last).</summary>
    private async Task LogoutAsync(uint requestId)
    {
        var authenticator = _core.Authenticator;
        await authenticator.LogoutAsync(UserId, DeviceId, keep: this).ConfigureAwait(false);
        RecordAudit(AuditAction.TokenRevoked, UserId, "logout");
        Sink.Close(Frames.Empty(MessageType.Ok, requestId));
    }

    private async Task RefreshSessionAsync(RefreshSession refresh, uint requestId)
    {
        var result = await _core.Authenticator.RefreshAsync(refresh.RefreshToken, ClientAddress, UserId, keep: this).ConfigureAwait(false);
        if (result.Pair is not { } pair)
        {
            RecordAudit(result.Audit, UserId, "refresh: " + result.Message);
            if (!IsClosed)
            {
                ReplyError(requestId, result.Error == ErrorCode.AuthFailed ? ErrorCode.Forbidden : result.Error, result.Message, result.RetryAfterMs);
            }

            return;
        }

        UseCredential(Authenticator.Hash(pair.Access.Token), pair.Access.ExpiresMs);
        RecordAudit(AuditAction.TokenRefreshed, UserId, "refresh");
        Reply(Frames.Encode(requestId, new TokenPair
        {
            AccessToken = pair.Access.Token,
            ExpiresMs = pair.Access.ExpiresMs,
            RefreshToken = pair.RefreshToken,
            RefreshExpiresMs = pair.RefreshExpiresMs,
        }));
    }

    private async Task ChangePasswordAsync(ChangePassword change, uint requestId)
    {
        var authenticator = _core.Authenticator;
        string account = "#" + UserId;
        long wait = authenticator.Throttle.RetryAfterMs(account, null, _core.NowMs);
        if (wait > 0)
        {
            RecordAudit(AuditAction.LoginThrottled, UserId, "change password");
            ReplyError(requestId, ErrorCode.RateLimited, "too many failed attempts; retry later", (uint)wait);
            return;
        }

        if (authenticator.HasPassword(UserId))
        {
            var matched = await authenticator.CheckPasswordAsync(UserId, change.CurrentPassword).ConfigureAwait(false);
            if (matched is null)
            {
                ReplyError(requestId, ErrorCode.RateLimited, "server busy; retry later", 1000);
                return;
            }

            if (matched != true)
            {
                authenticator.Throttle.Failed(account, null, _core.NowMs);
                RecordAudit(AuditAction.LoginFailed, UserId, "change password: wrong current password");
                ReplyError(requestId, ErrorCode.Forbidden, "the current password is wrong");
                return;
            }
        }

        var (code, text) = await authenticator.SetPasswordAsync(UserId, change.NewPassword).ConfigureAwait(false);
        if (code != ErrorCode.None)
        {
            ReplyError(requestId, code, text, code == ErrorCode.RateLimited ? 1000u : 0u);
            return;
        }

        RecordAudit(AuditAction.PasswordChanged, UserId, "self");
        Reply(Frames.Empty(MessageType.Ok, requestId));
    }

    private async Task TotpEnrollAsync(TotpEnroll enroll, uint requestId)
    {
        var authenticator = _core.Authenticator;
        if (authenticator.Credentials(UserId).TotpEnabled)
        {
            ReplyError(requestId, ErrorCode.Conflict, "MFA is already on; disable it first");
            return;
        }

        var secret = await authenticator.BeginTotpAsync(UserId).ConfigureAwait(false);
        var user = _core.Users.GetUser(UserId);
        if (secret is null || user is null)
        {
            ReplyError(requestId, ErrorCode.UnsupportedOperation, "this server keeps no MFA secrets");
            return;
        }

        string issuer = string.IsNullOrEmpty(enroll.Issuer) ? authenticator.Options.TotpIssuer : enroll.Issuer;
        Reply(Frames.Encode(requestId, new TotpEnrollment { Secret = TotpCodes.ToBase32(secret), Uri = TotpCodes.Uri(issuer, user.UserName, secret) }));
    }

    private async Task TotpConfirmAsync(TotpConfirm confirm, uint requestId)
    {
        var authenticator = _core.Authenticator;
        var credentials = authenticator.Credentials(UserId);
        if (credentials.TotpSecret is null || credentials.TotpEnabled)
        {
            ReplyError(requestId, ErrorCode.Conflict, credentials.TotpEnabled ? "MFA is already on" : "start enrollment first");
            return;
        }

        if (!await CheckCodeAsync(credentials, confirm.Code, requestId).ConfigureAwait(false))
        {
            return;
        }

        await authenticator.SetTotpEnabledAsync(UserId, credentials.TotpSecret, enabled: true).ConfigureAwait(false);
        RecordAudit(AuditAction.MfaEnabled, UserId, "totp");
        Reply(Frames.Empty(MessageType.Ok, requestId));
    }

    private async Task TotpDisableAsync(TotpDisable disable, uint requestId)
    {
        var authenticator = _core.Authenticator;
        var credentials = authenticator.Credentials(UserId);
        if (!credentials.TotpEnabled)
        {
            ReplyError(requestId, ErrorCode.Conflict, "MFA is not on");
            return;
        }

        if (!await CheckCodeAsync(credentials, disable.Code, requestId).ConfigureAwait(false))
        {
            return;
        }

        await authenticator.SetTotpEnabledAsync(UserId, null, enabled: false).ConfigureAwait(false);
        RecordAudit(AuditAction.MfaDisabled, UserId, "self");
        Reply(Frames.Empty(MessageType.Ok, requestId));
    }

    /// <summary>Checks a TOTP code (throttled per account); answers the error itself when it does not pass.</summary>
    private async Task<bool> CheckCodeAsync(Storage.CredentialRecord credentials, string code, uint requestId)
    {
        var authenticator = _core.Authenticator;
        string account = "#" + UserId;
        long wait = authenticator.Throttle.RetryAfterMs(account, null, _core.NowMs);
        if (wait > 0)
        {
            ReplyError(requestId, ErrorCode.RateLimited, "too many failed attempts; retry later", (uint)wait);
            return false;
        }

        if (!await authenticator.UseTotpCodeAsync(credentials, code).ConfigureAwait(false))
        {
            authenticator.Throttle.Failed(account, null, _core.NowMs);
            ReplyError(requestId, ErrorCode.Forbidden, "invalid or already used code");
            return false;
        }

        return true;
    }

    private async Task AdminSetPasswordAsync(AdminSetPassword set, uint requestId)
    {
        if (!_isAdmin || (!Sink.IsLoopback && !_core.Limits.AllowRemoteAdmin))
        {
            ReplyError(requestId, ErrorCode.Forbidden, "administrators only");
            return;
        }

        var user = _core.Users.FindUser(set.UserName);
        if (user is null)
        {
            ReplyError(requestId, ErrorCode.NotFound, "no such user");
            return;
        }

        var authenticator = _core.Authenticator;
        if (set.Password.Length > 0)
        {
            var (code, text) = await authenticator.SetPasswordAsync(user.UserId, set.Password).ConfigureAwait(false);
            if (code != ErrorCode.None)
            {
                ReplyError(requestId, code, text, code == ErrorCode.RateLimited ? 1000u : 0u);
                return;
            }

            _core.Audit.Record(new AuditEvent(AuditAction.PasswordChanged, UserId, DeviceId, user.UserId, 0, "by administrator", Sink.RemoteAddress));
        }

        if (set.DisableMfa)
        {
            await authenticator.SetTotpEnabledAsync(user.UserId, null, enabled: false).ConfigureAwait(false);
            _core.Audit.Record(new AuditEvent(AuditAction.MfaDisabled, UserId, DeviceId, user.UserId, 0, "by administrator", Sink.RemoteAddress));
        }

        Reply(Frames.Empty(MessageType.Ok, requestId));
    }
}
