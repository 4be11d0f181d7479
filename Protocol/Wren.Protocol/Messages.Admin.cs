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
    public FieldViolation Validate(ProtocolLimits limits) =>
        Fields.AllValid(Items, limits) ? FieldViolation.None : FieldViolation.Invalid("items");
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

/// <summary>
/// Client → server (administrators only): read any conversation's log, whether or not the caller is a member. Answered
/// with AdminLogPage.
/// </summary>
/// <remarks>This is the operator's inspection tool; membership is not checked.</remarks>
[MessagePackObject]
public sealed class AdminInspectLog : IMessage
{
    /// <summary>The conversation.</summary>
    [Key(0)] public ulong ConversationId { get; set; }

    /// <summary>First seq to return; 0 = from the first entry.</summary>
    [Key(1)] public ulong FromSeq { get; set; }

    /// <summary>Most entries; 0 = the server's maximum (the history page size).</summary>
    [Key(2)] public uint Limit { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.AdminInspectLog;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        ConversationId == 0 ? FieldViolation.Invalid("conversation_id") : FieldViolation.None;
}

/// <summary>Server → client: a conversation's description and a page of its log, oldest first.</summary>
[MessagePackObject]
public sealed class AdminLogPage : IMessage
{
    /// <summary>The conversation.</summary>
    [Key(0)] public ulong ConversationId { get; set; }

    /// <summary>Direct or group.</summary>
    [Key(1)] public ConversationKind Kind { get; set; }

    /// <summary>Group title; empty for direct.</summary>
    [Key(2)] public string Title { get; set; } = "";

    /// <summary>The log's epoch.</summary>
    [Key(3)] public uint Epoch { get; set; }

    /// <summary>Last seq (0 = empty).</summary>
    [Key(4)] public ulong Head { get; set; }

    /// <summary>Current number of members.</summary>
    [Key(5)] public uint MemberCount { get; set; }

    /// <summary>The entries, ascending seq.</summary>
    [Key(6)] public Deliver[] Entries { get; set; } = [];

    /// <summary>True when later entries exist: ask again with FromSeq = the last entry's seq + 1.</summary>
    [Key(7)] public bool More { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.AdminLogPage;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits)
    {
        if (!Fields.Text(Title, limits.MaxNameBytes)) return FieldViolation.Invalid("title");
        if (Entries is null) return FieldViolation.Invalid("entries");
        foreach (var entry in Entries)
        {
            if (entry is null || !entry.Validate(limits).IsNone) return FieldViolation.Invalid("entries");
        }

        return FieldViolation.None;
    }
}

/// <summary>Client → server (administrators only): list a user's device tokens. Answered with AdminTokenList.</summary>
[MessagePackObject]
public sealed class AdminListTokens : IMessage
{
    /// <summary>The user.</summary>
    [Key(0)] public string UserName { get; set; } = "";

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.AdminListTokens;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        string.IsNullOrEmpty(UserName) || !Fields.Text(UserName, limits.MaxNameBytes) ? FieldViolation.Invalid("user_name") : FieldViolation.None;
}

/// <summary>One stored token as administrators see it: an id derived from its hash, never the secret.</summary>
[MessagePackObject]
public sealed class AdminTokenInfo : IValidated
{
    /// <summary>The number of hex characters of a token id (the first 8 bytes of the token's SHA-256).</summary>
    public const int IdLength = 16;

    /// <summary>The first 8 bytes of the token's SHA-256, as 16 lowercase hex characters.</summary>
    [Key(0)] public string TokenId { get; set; } = "";

    /// <summary>The device the token authenticates.</summary>
    [Key(1)] public uint DeviceId { get; set; }

    /// <summary>The device's name; empty when the device is unknown.</summary>
    [Key(2)] public string DeviceName { get; set; } = "";

    /// <summary>Issue time, Unix milliseconds.</summary>
    [Key(3)] public long CreatedMs { get; set; }

    /// <summary>Expiry, Unix milliseconds; 0 = never.</summary>
    [Key(4)] public long ExpiresMs { get; set; }

    /// <summary>A revoked token cannot authenticate.</summary>
    [Key(5)] public bool Revoked { get; set; }

    /// <summary>True when <paramref name="value"/> has the shape of a token id: 16 lowercase hex characters.</summary>
    public static bool IsTokenId(string? value)
    {
        if (value is null || value.Length != IdLength)
        {
            return false;
        }

        foreach (char c in value)
        {
            if (!char.IsAsciiHexDigitLower(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits)
    {
        if (!IsTokenId(TokenId)) return FieldViolation.Invalid("token_id");
        if (!Fields.Text(DeviceName, limits.MaxNameBytes)) return FieldViolation.Invalid("device_name");
        return FieldViolation.None;
    }
}

/// <summary>Server → client: a user's tokens, in issue order.</summary>
[MessagePackObject]
public sealed class AdminTokenList : IMessage
{
    /// <summary>The tokens.</summary>
    [Key(0)] public AdminTokenInfo[] Items { get; set; } = [];

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.AdminTokenList;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        Fields.AllValid(Items, limits) ? FieldViolation.None : FieldViolation.Invalid("items");
}

/// <summary>
/// Client → server (administrators only): revoke one token of a user and close that device's sessions. Answered with Ok.
/// </summary>
[MessagePackObject]
public sealed class AdminRevokeToken : IMessage
{
    /// <summary>The user.</summary>
    [Key(0)] public string UserName { get; set; } = "";

    /// <summary>The token id from AdminTokenList.</summary>
    [Key(1)] public string TokenId { get; set; } = "";

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.AdminRevokeToken;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits)
    {
        if (string.IsNullOrEmpty(UserName) || !Fields.Text(UserName, limits.MaxNameBytes)) return FieldViolation.Invalid("user_name");
        if (!AdminTokenInfo.IsTokenId(TokenId)) return FieldViolation.Invalid("token_id");
        return FieldViolation.None;
    }
}

/// <summary>
/// Client → server (administrators only): a page of one user's conversations as that user sees them. Answered with
/// ConversationList.
/// </summary>
[MessagePackObject]
public sealed class AdminListUserConversations : IMessage
{
    /// <summary>The user.</summary>
    [Key(0)] public string UserName { get; set; } = "";

    /// <summary>Start after this conversation id.</summary>
    [Key(1)] public ulong AfterConversationId { get; set; }

    /// <summary>Most conversations; 0 = the server's maximum.</summary>
    [Key(2)] public uint Limit { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.AdminListUserConversations;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        string.IsNullOrEmpty(UserName) || !Fields.Text(UserName, limits.MaxNameBytes) ? FieldViolation.Invalid("user_name") : FieldViolation.None;
}

/// <summary>Client → server (administrators only): set a member's role in a group. Answered with Ok.</summary>
[MessagePackObject]
public sealed class AdminSetRole : IMessage
{
    /// <summary>The group.</summary>
    [Key(0)] public ulong ConversationId { get; set; }

    /// <summary>The member.</summary>
    [Key(1)] public ulong UserId { get; set; }

    /// <summary>The new role.</summary>
    [Key(2)] public MemberRole Role { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.AdminSetRole;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits)
    {
        if (ConversationId == 0) return FieldViolation.Invalid("conversation_id");
        if (UserId == 0) return FieldViolation.Invalid("user_id");
        if (Role > MemberRole.Owner) return FieldViolation.Invalid("role");
        return FieldViolation.None;
    }
}

/// <summary>
/// Client → server (administrators only): write a consistent copy of the store into a new directory on the broker's
/// host. Answered with Ok once the copy is complete.
/// </summary>
[MessagePackObject]
public sealed class AdminCheckpoint : IMessage
{
    /// <summary>The longest target directory accepted, in UTF-8 bytes (Linux's PATH_MAX).</summary>
    public const int MaxPathBytes = 4096;

    /// <summary>The directory to create, on the broker's host; must not exist yet. Relative paths are relative to the broker's working directory.</summary>
    [Key(0)] public string TargetDirectory { get; set; } = "";

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.AdminCheckpoint;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        string.IsNullOrWhiteSpace(TargetDirectory) || !Fields.Text(TargetDirectory, MaxPathBytes) || TargetDirectory.Contains('\0', StringComparison.Ordinal)
            ? FieldViolation.Invalid("target_directory")
            : FieldViolation.None;
}
