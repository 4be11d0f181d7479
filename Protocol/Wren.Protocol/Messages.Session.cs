using MessagePack;

namespace Wren.Protocol.Messages;

/// <summary>Client → server, first frame: the protocol versions the client speaks and who it is.</summary>
[MessagePackObject]
public sealed class Hello : IMessage
{
    /// <summary>Lowest protocol version the client speaks.</summary>
    [Key(0)] public ushort MinVersion { get; set; } = ProtocolLimits.MinVersion;

    /// <summary>Highest protocol version the client speaks.</summary>
    [Key(1)] public ushort MaxVersion { get; set; } = ProtocolLimits.MaxVersion;

    /// <summary>Client software name, for logs and statistics.</summary>
    [Key(2)] public string ClientName { get; set; } = "";

    /// <summary>Client software version.</summary>
    [Key(3)] public string ClientVersion { get; set; } = "";

    /// <summary>Optional features the client supports; unknown names are ignored.</summary>
    [Key(4)] public string[] Capabilities { get; set; } = [];

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.Hello;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits)
    {
        // An empty or unknown version range is not a field error: negotiation answers it with UnsupportedVersion.
        if (!Fields.Text(ClientName, limits.MaxNameBytes)) return FieldViolation.Invalid("client_name");
        if (!Fields.Text(ClientVersion, limits.MaxNameBytes)) return FieldViolation.Invalid("client_version");
        if (!Fields.TextList(Capabilities, limits.MaxListItems, limits.MaxNameBytes)) return FieldViolation.Invalid("capabilities");
        return FieldViolation.None;
    }
}

/// <summary>Limits the server enforces on this connection, sent in <see cref="Welcome"/>.</summary>
[MessagePackObject]
public sealed class ServerLimits
{
    /// <summary>Largest accepted frame length field.</summary>
    [Key(0)] public uint MaxFrameLength { get; set; }

    /// <summary>Largest accepted Send body.</summary>
    [Key(1)] public uint MaxMessageBodyBytes { get; set; }

    /// <summary>Interval at which the server pings an idle connection.</summary>
    [Key(2)] public uint PingIntervalMs { get; set; }

    /// <summary>A connection that sends nothing for this long is closed with IdleTimeout.</summary>
    [Key(3)] public uint IdleTimeoutMs { get; set; }

    /// <summary>Time allowed from connect to AuthOk.</summary>
    [Key(4)] public uint HandshakeTimeoutMs { get; set; }

    /// <summary>Most entries one sync request streams before SyncDone with more = true.</summary>
    [Key(5)] public uint MaxSyncBatch { get; set; }

    /// <summary>Most entries in one history page.</summary>
    [Key(6)] public uint MaxHistoryPage { get; set; }

    /// <summary>Most ids in one list field.</summary>
    [Key(7)] public uint MaxListItems { get; set; }
}

/// <summary>Server → client: answer to Hello.</summary>
[MessagePackObject]
public sealed class Welcome : IMessage
{
    /// <summary>The protocol version chosen for this connection: the highest both sides speak.</summary>
    [Key(0)] public ushort Version { get; set; }

    /// <summary>Server software name.</summary>
    [Key(1)] public string ServerName { get; set; } = "";

    /// <summary>Server software version.</summary>
    [Key(2)] public string ServerVersion { get; set; } = "";

    /// <summary>Server clock, Unix milliseconds, so the client can estimate skew.</summary>
    [Key(3)] public long ServerTimeMs { get; set; }

    /// <summary>The limits in force on this connection.</summary>
    [Key(4)] public ServerLimits Limits { get; set; } = new();

    /// <summary>Optional features the server enables for this connection.</summary>
    [Key(5)] public string[] Capabilities { get; set; } = [];

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.Welcome;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits)
    {
        if (!Fields.Text(ServerName, limits.MaxNameBytes)) return FieldViolation.Invalid("server_name");
        if (!Fields.Text(ServerVersion, limits.MaxNameBytes)) return FieldViolation.Invalid("server_version");
        if (Limits is null) return FieldViolation.Invalid("limits");
        if (!Fields.TextList(Capabilities, limits.MaxListItems, limits.MaxNameBytes)) return FieldViolation.Invalid("capabilities");
        return FieldViolation.None;
    }
}

/// <summary>How <see cref="Auth"/> proves who the client is.</summary>
public enum AuthMethod : byte
{
    /// <summary>A device token issued by the server.</summary>
    Token = 1,
    /// <summary>User name and password, plus a TOTP code when the account has MFA.</summary>
    Password = 2,
    /// <summary>An OpenID Connect ID or access token (JWT) from a configured issuer.</summary>
    OidcToken = 3,
    /// <summary>A refresh token (in Token): rotates the device's token pair and authenticates with the new one.</summary>
    RefreshToken = 4,
}

/// <summary>Client → server: credentials. Sent once, after Welcome.</summary>
[MessagePackObject]
public sealed class Auth : IMessage
{
    /// <summary>Which credential fields are used.</summary>
    [Key(0)] public AuthMethod Method { get; set; } = AuthMethod.Token;

    /// <summary>Device token (Token) or JWT (OidcToken).</summary>
    [Key(1)] public string? Token { get; set; }

    /// <summary>User name (Password).</summary>
    [Key(2)] public string? UserName { get; set; }

    /// <summary>Password (Password).</summary>
    [Key(3)] public string? Password { get; set; }

    /// <summary>Current TOTP code when the account has MFA (Password).</summary>
    [Key(4)] public string? TotpCode { get; set; }

    /// <summary>Name of the device to issue a token for (Password, OidcToken).</summary>
    [Key(5)] public string? DeviceName { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.Auth;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits)
    {
        if (!Enum.IsDefined(Method)) return FieldViolation.Invalid("method");
        if (!Fields.Text(Token, limits.MaxCredentialBytes, required: false)) return FieldViolation.Invalid("token");
        if (!Fields.Text(UserName, limits.MaxNameBytes, required: false)) return FieldViolation.Invalid("user_name");
        if (!Fields.Text(Password, limits.MaxCredentialBytes, required: false)) return FieldViolation.Invalid("password");
        if (!Fields.Text(TotpCode, limits.MaxNameBytes, required: false)) return FieldViolation.Invalid("totp_code");
        if (!Fields.Text(DeviceName, limits.MaxNameBytes, required: false)) return FieldViolation.Invalid("device_name");
        return Method switch
        {
            AuthMethod.Token or AuthMethod.OidcToken or AuthMethod.RefreshToken when string.IsNullOrEmpty(Token) => FieldViolation.Invalid("token"),
            AuthMethod.Password when string.IsNullOrEmpty(UserName) => FieldViolation.Invalid("user_name"),
            AuthMethod.Password when string.IsNullOrEmpty(Password) => FieldViolation.Invalid("password"),
            _ => FieldViolation.None,
        };
    }
}

/// <summary>Server → client: authentication succeeded; the session may now use every operation.</summary>
[MessagePackObject]
public sealed class AuthOk : IMessage
{
    /// <summary>The authenticated user's id.</summary>
    [Key(0)] public ulong UserId { get; set; }

    /// <summary>The authenticated user's name.</summary>
    [Key(1)] public string UserName { get; set; } = "";

    /// <summary>The device this session belongs to.</summary>
    [Key(2)] public uint DeviceId { get; set; }

    /// <summary>Server-assigned id of this session, for logs and support.</summary>
    [Key(3)] public ulong SessionId { get; set; }

    /// <summary>When the credential used expires, Unix milliseconds; 0 when it does not.</summary>
    [Key(4)] public long ExpiresMs { get; set; }

    /// <summary>A newly issued device token (password, OIDC and refresh logins); null for token logins.</summary>
    [Key(5)] public string? IssuedToken { get; set; }

    /// <summary>The refresh token paired with <see cref="IssuedToken"/> (single use); null for token logins.</summary>
    [Key(6)] public string? RefreshToken { get; set; }

    /// <summary>When <see cref="RefreshToken"/> expires, Unix milliseconds; 0 when none was issued.</summary>
    [Key(7)] public long RefreshExpiresMs { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.AuthOk;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits)
    {
        if (!Fields.Text(UserName, limits.MaxNameBytes)) return FieldViolation.Invalid("user_name");
        if (!Fields.Text(IssuedToken, limits.MaxCredentialBytes, required: false)) return FieldViolation.Invalid("issued_token");
        if (!Fields.Text(RefreshToken, limits.MaxCredentialBytes, required: false)) return FieldViolation.Invalid("refresh_token");
        return FieldViolation.None;
    }
}

/// <summary>Ping, Pong and Ok: frames whose body is always empty.</summary>
public sealed class EmptyMessage : IMessage
{
    /// <summary>The Ping message.</summary>
    public static EmptyMessage Ping { get; } = new(MessageType.Ping);

    /// <summary>The Pong message.</summary>
    public static EmptyMessage Pong { get; } = new(MessageType.Pong);

    /// <summary>The Ok message.</summary>
    public static EmptyMessage Ok { get; } = new(MessageType.Ok);

    private EmptyMessage(MessageType type) => Type = type;

    /// <inheritdoc/>
    public MessageType Type { get; }

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) => FieldViolation.None;

    /// <summary>The shared instance for an empty-body type.</summary>
    public static EmptyMessage For(MessageType type) => type switch
    {
        MessageType.Ping => Ping,
        MessageType.Pong => Pong,
        MessageType.Ok => Ok,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };
}

/// <summary>Server → client: the server is shutting down or moving this client; reconnect after a delay.</summary>
[MessagePackObject]
public sealed class GoAway : IMessage
{
    /// <summary>Why the server is going away (usually ShuttingDown).</summary>
    [Key(0)] public ErrorCode Code { get; set; } = ErrorCode.ShuttingDown;

    /// <summary>Human-readable reason.</summary>
    [Key(1)] public string Message { get; set; } = "";

    /// <summary>Suggested delay before reconnecting; clients add jitter.</summary>
    [Key(2)] public uint ReconnectAfterMs { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.GoAway;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        Fields.Text(Message, limits.MaxNameBytes) ? FieldViolation.None : FieldViolation.Invalid("message");
}

/// <summary>Server → client: a request failed, or (for codes 100–199) the connection is about to close.</summary>
[MessagePackObject]
public sealed class Error : IMessage
{
    /// <summary>What went wrong.</summary>
    [Key(0)] public ErrorCode Code { get; set; }

    /// <summary>Human-readable detail; never contains server internals.</summary>
    [Key(1)] public string Message { get; set; } = "";

    /// <summary>For RateLimited and StorageUnavailable: suggested delay before retrying; otherwise 0.</summary>
    [Key(2)] public uint RetryAfterMs { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.Error;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        Fields.Text(Message, limits.MaxNameBytes) ? FieldViolation.None : FieldViolation.Invalid("message");
}
