using MessagePack;

namespace Wren.Protocol.Messages;

/// <summary>Client → server (administrators only): create a user. Answered with AdminUser.</summary>
[MessagePackObject]
public sealed class AdminCreateUser : IMessage
{
    /// <summary>Unique login name.</summary>
    [Key(0)] public string UserName { get; set; } = "";

    /// <summary>Display name; the login name when empty.</summary>
    [Key(1)] public string DisplayName { get; set; } = "";

    /// <summary>Make the user a server-wide administrator.</summary>
    [Key(2)] public bool IsAdmin { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.AdminCreateUser;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits)
    {
        if (string.IsNullOrEmpty(UserName) || !Fields.Text(UserName, limits.MaxNameBytes)) return FieldViolation.Invalid("user_name");
        if (!Fields.Text(DisplayName, limits.MaxNameBytes)) return FieldViolation.Invalid("display_name");
        return FieldViolation.None;
    }
}

/// <summary>Server → client: a user as administrators see it.</summary>
[MessagePackObject]
public sealed class AdminUser : IMessage
{
    /// <summary>The user's id.</summary>
    [Key(0)] public ulong UserId { get; set; }

    /// <summary>Login name.</summary>
    [Key(1)] public string UserName { get; set; } = "";

    /// <summary>Display name.</summary>
    [Key(2)] public string DisplayName { get; set; } = "";

    /// <summary>Server-wide administrator.</summary>
    [Key(3)] public bool IsAdmin { get; set; }

    /// <summary>Disabled users cannot authenticate.</summary>
    [Key(4)] public bool Disabled { get; set; }

    /// <summary>Creation time, Unix milliseconds.</summary>
    [Key(5)] public long CreatedMs { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.AdminUser;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        Fields.Text(UserName, limits.MaxNameBytes) && Fields.Text(DisplayName, limits.MaxNameBytes) ? FieldViolation.None : FieldViolation.Invalid("user_name");
}

/// <summary>Client → server (administrators only): issue a device token for a new device of a user. Answered with AdminToken.</summary>
[MessagePackObject]
public sealed class AdminIssueToken : IMessage
{
    /// <summary>The user.</summary>
    [Key(0)] public string UserName { get; set; } = "";

    /// <summary>Name of the new device.</summary>
    [Key(1)] public string DeviceName { get; set; } = "";

    /// <summary>Token lifetime in seconds; 0 = no expiry.</summary>
    [Key(2)] public uint TtlSeconds { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.AdminIssueToken;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits)
    {
        if (string.IsNullOrEmpty(UserName) || !Fields.Text(UserName, limits.MaxNameBytes)) return FieldViolation.Invalid("user_name");
        if (string.IsNullOrEmpty(DeviceName) || !Fields.Text(DeviceName, limits.MaxNameBytes)) return FieldViolation.Invalid("device_name");
        return FieldViolation.None;
    }
}

/// <summary>Server → client: a newly issued device token (shown once; the server keeps only its hash).</summary>
[MessagePackObject]
public sealed class AdminToken : IMessage
{
    /// <summary>The secret.</summary>
    [Key(0)] public string Token { get; set; } = "";

    /// <summary>The user.</summary>
    [Key(1)] public ulong UserId { get; set; }

    /// <summary>The new device.</summary>
    [Key(2)] public uint DeviceId { get; set; }

    /// <summary>Expiry, Unix milliseconds; 0 = never.</summary>
    [Key(3)] public long ExpiresMs { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.AdminToken;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        Fields.Text(Token, limits.MaxCredentialBytes) ? FieldViolation.None : FieldViolation.Invalid("token");
}

/// <summary>Client → server (administrators only): list users in id order. Answered with AdminUserList.</summary>
[MessagePackObject]
public sealed class AdminListUsers : IMessage
{
    /// <summary>Start after this user id.</summary>
    [Key(0)] public ulong AfterUserId { get; set; }

    /// <summary>Most users; 0 = the server's maximum.</summary>
    [Key(1)] public uint Limit { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.AdminListUsers;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) => FieldViolation.None;
}

/// <summary>Server → client: a page of users.</summary>
[MessagePackObject]
public sealed class AdminUserList : IMessage
{
    /// <summary>Users in id order.</summary>
    [Key(0)] public AdminUser[] Items { get; set; } = [];

    /// <summary>True when more follow.</summary>
    [Key(1)] public bool More { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.AdminUserList;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits)
    {
        if (Items is null) return FieldViolation.Invalid("items");
        foreach (var item in Items)
        {
            if (item is null || !item.Validate(limits).IsNone) return FieldViolation.Invalid("items");
        }

        return FieldViolation.None;
    }
}

/// <summary>Client → server (administrators only): disable or enable a user. Disabling closes the user's sessions. Answered with Ok.</summary>
[MessagePackObject]
public sealed class AdminSetDisabled : IMessage
{
    /// <summary>The user.</summary>
    [Key(0)] public ulong UserId { get; set; }

    /// <summary>True to disable, false to enable.</summary>
    [Key(1)] public bool Disabled { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.AdminSetDisabled;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        UserId == 0 ? FieldViolation.Invalid("user_id") : FieldViolation.None;
}

/// <summary>Client → server (administrators only): server statistics. The body is an empty array. Answered with AdminStatsResult.</summary>
[MessagePackObject]
public sealed class AdminStats : IMessage
{
    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.AdminStats;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) => FieldViolation.None;
}

/// <summary>Server → client: server statistics.</summary>
[MessagePackObject]
public sealed class AdminStatsResult : IMessage
{
    /// <summary>Open client connections.</summary>
    [Key(0)] public ulong Connections { get; set; }

    /// <summary>Users with at least one authenticated session.</summary>
    [Key(1)] public ulong OnlineUsers { get; set; }

    /// <summary>Users in the store.</summary>
    [Key(2)] public ulong Users { get; set; }

    /// <summary>Conversations in the store.</summary>
    [Key(3)] public ulong Conversations { get; set; }

    /// <summary>Log entries over all conversations.</summary>
    [Key(4)] public ulong Messages { get; set; }

    /// <summary>Bytes used by the data directory.</summary>
    [Key(5)] public ulong DiskBytes { get; set; }

    /// <summary>Time since the broker started.</summary>
    [Key(6)] public ulong UptimeMs { get; set; }

    /// <summary>Live Deliver frames queued to sessions since start.</summary>
    [Key(7)] public ulong Delivered { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.AdminStatsResult;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) => FieldViolation.None;
}
