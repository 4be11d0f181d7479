using MessagePack;

namespace Wren.Protocol.Messages;

/// <summary>Client → server: ends this device's login. The server revokes the device's tokens (access and refresh), answers Ok and closes every session of the device.</summary>
[MessagePackObject]
public sealed class Logout : IMessage
{
    /// <summary>Reserved; always false in this version.</summary>
    [Key(0)] public bool AllDevices { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.Logout;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) => FieldViolation.None;
}

/// <summary>Client → server: changes the caller's own password; the current one is required.</summary>
[MessagePackObject]
public sealed class ChangePassword : IMessage
{
    /// <summary>The current password (empty when the account has none yet).</summary>
    [Key(0)] public string CurrentPassword { get; set; } = "";

    /// <summary>The new password.</summary>
    [Key(1)] public string NewPassword { get; set; } = "";

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.ChangePassword;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits)
    {
        if (!Fields.Text(CurrentPassword, limits.MaxCredentialBytes)) return FieldViolation.Invalid("current_password");
        if (string.IsNullOrEmpty(NewPassword) || !Fields.Text(NewPassword, limits.MaxCredentialBytes)) return FieldViolation.Invalid("new_password");
        return FieldViolation.None;
    }
}

/// <summary>Client → server: starts TOTP enrollment; answered with <see cref="TotpEnrollment"/>. MFA is on only after <see cref="TotpConfirm"/>.</summary>
[MessagePackObject]
public sealed class TotpEnroll : IMessage
{
    /// <summary>Issuer label shown by authenticator apps; "Wren" when empty.</summary>
    [Key(0)] public string Issuer { get; set; } = "";

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.TotpEnroll;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        Fields.Text(Issuer, limits.MaxNameBytes) ? FieldViolation.None : FieldViolation.Invalid("issuer");
}

/// <summary>Client → server: confirms enrollment with a current code; MFA is then required at password login.</summary>
[MessagePackObject]
public sealed class TotpConfirm : IMessage
{
    /// <summary>The 6-digit code.</summary>
    [Key(0)] public string Code { get; set; } = "";

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.TotpConfirm;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        !string.IsNullOrEmpty(Code) && Fields.Text(Code, limits.MaxNameBytes) ? FieldViolation.None : FieldViolation.Invalid("code");
}

/// <summary>Client → server: turns the caller's MFA off; needs a current code.</summary>
[MessagePackObject]
public sealed class TotpDisable : IMessage
{
    /// <summary>The 6-digit code.</summary>
    [Key(0)] public string Code { get; set; } = "";

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.TotpDisable;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        !string.IsNullOrEmpty(Code) && Fields.Text(Code, limits.MaxNameBytes) ? FieldViolation.None : FieldViolation.Invalid("code");
}

/// <summary>Client → server (administrators): sets a user's password, or turns the user's MFA off.</summary>
[MessagePackObject]
public sealed class AdminSetPassword : IMessage
{
    /// <summary>The user's login name.</summary>
    [Key(0)] public string UserName { get; set; } = "";

    /// <summary>The new password; empty leaves the password unchanged.</summary>
    [Key(1)] public string Password { get; set; } = "";

    /// <summary>Turn the user's TOTP MFA off.</summary>
    [Key(2)] public bool DisableMfa { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.AdminSetPassword;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits)
    {
        if (string.IsNullOrEmpty(UserName) || !Fields.Text(UserName, limits.MaxNameBytes)) return FieldViolation.Invalid("user_name");
        if (!Fields.Text(Password, limits.MaxCredentialBytes)) return FieldViolation.Invalid("password");
        if (Password.Length == 0 && !DisableMfa) return FieldViolation.Invalid("password");
        return FieldViolation.None;
    }
}

/// <summary>Client → server: exchanges the current refresh token for a new token pair (the old pair is revoked).</summary>
[MessagePackObject]
public sealed class RefreshSession : IMessage
{
    /// <summary>The refresh token from AuthOk or the last <see cref="TokenPair"/>.</summary>
    [Key(0)] public string RefreshToken { get; set; } = "";

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.RefreshSession;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        !string.IsNullOrEmpty(RefreshToken) && Fields.Text(RefreshToken, limits.MaxCredentialBytes) ? FieldViolation.None : FieldViolation.Invalid("refresh_token");
}

/// <summary>Server → client: the secret of a TOTP enrollment, shown once.</summary>
[MessagePackObject]
public sealed class TotpEnrollment : IMessage
{
    /// <summary>The shared secret, Base32 (RFC 4648, no padding).</summary>
    [Key(0)] public string Secret { get; set; } = "";

    /// <summary>The otpauth:// URI for authenticator apps (SHA-1, 6 digits, 30 s).</summary>
    [Key(1)] public string Uri { get; set; } = "";

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.TotpEnrollment;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits)
    {
        if (!Fields.Text(Secret, limits.MaxNameBytes)) return FieldViolation.Invalid("secret");
        if (!Fields.Text(Uri, limits.MaxCredentialBytes)) return FieldViolation.Invalid("uri");
        return FieldViolation.None;
    }
}

/// <summary>Server → client: a new access token and refresh token for the caller's device.</summary>
[MessagePackObject]
public sealed class TokenPair : IMessage
{
    /// <summary>The device (access) token, for Auth with method Token.</summary>
    [Key(0)] public string AccessToken { get; set; } = "";

    /// <summary>When the access token expires, Unix ms; 0 = never.</summary>
    [Key(1)] public long ExpiresMs { get; set; }

    /// <summary>The refresh token; single use.</summary>
    [Key(2)] public string RefreshToken { get; set; } = "";

    /// <summary>When the refresh token expires, Unix ms.</summary>
    [Key(3)] public long RefreshExpiresMs { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.TokenPair;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits)
    {
        if (!Fields.Text(AccessToken, limits.MaxCredentialBytes)) return FieldViolation.Invalid("access_token");
        if (!Fields.Text(RefreshToken, limits.MaxCredentialBytes)) return FieldViolation.Invalid("refresh_token");
        return FieldViolation.None;
    }
}
