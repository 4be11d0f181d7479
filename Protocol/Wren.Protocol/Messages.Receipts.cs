using MessagePack;

namespace Wren.Protocol.Messages;

/// <summary>Client → server: the user has read the conversation up to a seq. Answered with Ok.</summary>
[MessagePackObject]
public sealed class MarkRead : IMessage
{
    /// <summary>The conversation.</summary>
    [Key(0)] public ulong ConversationId { get; set; }

    /// <summary>Read up to and including this seq; a lower value than the stored cursor is ignored.</summary>
    [Key(1)] public ulong Seq { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.MarkRead;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        ConversationId == 0 ? FieldViolation.Invalid("conversation_id") : FieldViolation.None;
}

/// <summary>Server → client push: a user read a conversation up to a seq (sent to the other members and to the reader's other devices).</summary>
[MessagePackObject]
public sealed class ReadReceipt : IMessage
{
    /// <summary>The conversation.</summary>
    [Key(0)] public ulong ConversationId { get; set; }

    /// <summary>The reader.</summary>
    [Key(1)] public ulong UserId { get; set; }

    /// <summary>The reader's new read cursor.</summary>
    [Key(2)] public ulong Seq { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.ReadReceipt;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) => FieldViolation.None;
}

/// <summary>
/// Both directions, never answered: a member started or stopped typing. Clients send it with UserId 0; the server
/// fills in the sender and relays it to the other members' online devices. Ephemeral: never stored.
/// </summary>
[MessagePackObject]
public sealed class Typing : IMessage
{
    /// <summary>The conversation.</summary>
    [Key(0)] public ulong ConversationId { get; set; }

    /// <summary>True when typing started, false when it stopped.</summary>
    [Key(1)] public bool Active { get; set; }

    /// <summary>Who is typing (set by the server).</summary>
    [Key(2)] public ulong UserId { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.Typing;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        ConversationId == 0 ? FieldViolation.Invalid("conversation_id") : FieldViolation.None;
}

/// <summary>A user's presence.</summary>
public enum PresenceStatus : byte
{
    /// <summary>No device connected.</summary>
    Offline = 0,
    /// <summary>At least one device connected.</summary>
    Online = 1,
}

/// <summary>Server → client push (and item of PresenceList): a user's presence. Sent only to users who share a conversation with that user.</summary>
[MessagePackObject]
public sealed class Presence : IMessage
{
    /// <summary>The user.</summary>
    [Key(0)] public ulong UserId { get; set; }

    /// <summary>Online or offline.</summary>
    [Key(1)] public PresenceStatus Status { get; set; }

    /// <summary>When the user was last connected, Unix milliseconds (the current time while online); 0 if never.</summary>
    [Key(2)] public long LastSeenMs { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.Presence;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) => FieldViolation.None;
}

/// <summary>Client → server: current presence of users the caller shares a conversation with. Answered with PresenceList.</summary>
[MessagePackObject]
public sealed class QueryPresence : IMessage
{
    /// <summary>The users; others are left out of the answer.</summary>
    [Key(0)] public ulong[] UserIds { get; set; } = [];

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.QueryPresence;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        Fields.List(UserIds, limits.MaxListItems) ? FieldViolation.None : FieldViolation.Invalid("user_ids");
}

/// <summary>Server → client: answer to QueryPresence.</summary>
[MessagePackObject]
public sealed class PresenceList : IMessage
{
    /// <summary>One item per visible user.</summary>
    [Key(0)] public Presence[] Items { get; set; } = [];

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.PresenceList;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        Items is null || Array.Exists(Items, i => i is null) ? FieldViolation.Invalid("items") : FieldViolation.None;
}

/// <summary>Client → server: look users up by id and by name. Answered with UserList.</summary>
[MessagePackObject]
public sealed class ResolveUsers : IMessage
{
    /// <summary>Ids to look up.</summary>
    [Key(0)] public ulong[] UserIds { get; set; } = [];

    /// <summary>Names to look up.</summary>
    [Key(1)] public string[] UserNames { get; set; } = [];

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.ResolveUsers;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits)
    {
        if (!Fields.List(UserIds, limits.MaxListItems)) return FieldViolation.Invalid("user_ids");
        if (!Fields.TextList(UserNames, limits.MaxListItems, limits.MaxNameBytes)) return FieldViolation.Invalid("user_names");
        return FieldViolation.None;
    }
}

/// <summary>A user's public description.</summary>
[MessagePackObject]
public sealed class UserInfo
{
    /// <summary>The user's id.</summary>
    [Key(0)] public ulong UserId { get; set; }

    /// <summary>The unique login name.</summary>
    [Key(1)] public string UserName { get; set; } = "";

    /// <summary>The name to display.</summary>
    [Key(2)] public string DisplayName { get; set; } = "";
}

/// <summary>Server → client: answer to ResolveUsers; users that do not exist are left out.</summary>
[MessagePackObject]
public sealed class UserList : IMessage
{
    /// <summary>The users found.</summary>
    [Key(0)] public UserInfo[] Items { get; set; } = [];

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.UserList;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits)
    {
        if (Items is null) return FieldViolation.Invalid("items");
        foreach (var item in Items)
        {
            if (item is null || !Fields.Text(item.UserName, limits.MaxNameBytes) || !Fields.Text(item.DisplayName, limits.MaxNameBytes))
            {
                return FieldViolation.Invalid("items");
            }
        }

        return FieldViolation.None;
    }
}
