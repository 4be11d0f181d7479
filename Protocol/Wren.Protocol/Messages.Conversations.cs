using MessagePack;

namespace Wren.Protocol.Messages;

/// <summary>Kind of a conversation.</summary>
public enum ConversationKind : byte
{
    /// <summary>Between exactly two users; one per pair.</summary>
    Direct = 1,
    /// <summary>A group with members and roles.</summary>
    Group = 2,
}

/// <summary>A member's role in a conversation.</summary>
public enum MemberRole : byte
{
    /// <summary>Regular member.</summary>
    Member = 0,
    /// <summary>May not send.</summary>
    Muted = 1,
    /// <summary>Manages members.</summary>
    Admin = 2,
    /// <summary>Owns the group.</summary>
    Owner = 3,
}

/// <summary>Client → server: create a group with the caller as owner. Answered with ConversationInfo.</summary>
[MessagePackObject]
public sealed class CreateGroup : IMessage
{
    /// <summary>Group title.</summary>
    [Key(0)] public string Title { get; set; } = "";

    /// <summary>Initial members besides the caller.</summary>
    [Key(1)] public ulong[] Members { get; set; } = [];

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.CreateGroup;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits)
    {
        if (!Fields.Text(Title, limits.MaxNameBytes)) return FieldViolation.Invalid("title");
        if (!Fields.List(Members, limits.MaxListItems)) return FieldViolation.Invalid("members");
        return FieldViolation.None;
    }
}

/// <summary>Server → client: one conversation as the caller sees it.</summary>
[MessagePackObject]
public sealed class ConversationInfo : IMessage
{
    /// <summary>The conversation.</summary>
    [Key(0)] public ulong ConversationId { get; set; }

    /// <summary>Direct or group.</summary>
    [Key(1)] public ConversationKind Kind { get; set; }

    /// <summary>Group title; empty for direct conversations.</summary>
    [Key(2)] public string Title { get; set; } = "";

    /// <summary>The log's epoch.</summary>
    [Key(3)] public uint Epoch { get; set; }

    /// <summary>The last seq in the log (0 when empty).</summary>
    [Key(4)] public ulong Head { get; set; }

    /// <summary>Number of members.</summary>
    [Key(5)] public uint MemberCount { get; set; }

    /// <summary>Creation time, Unix milliseconds.</summary>
    [Key(6)] public long CreatedMs { get; set; }

    /// <summary>The caller's role.</summary>
    [Key(7)] public MemberRole MyRole { get; set; }

    /// <summary>The caller's read cursor; unread count = Head − ReadSeq.</summary>
    [Key(8)] public ulong ReadSeq { get; set; }

    /// <summary>For direct conversations, the other user; otherwise 0.</summary>
    [Key(9)] public ulong PeerUserId { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.ConversationInfo;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        Fields.Text(Title, limits.MaxNameBytes) ? FieldViolation.None : FieldViolation.Invalid("title");
}

/// <summary>Client → server: find the direct conversation with a user, creating it if needed. Answered with ConversationInfo.</summary>
[MessagePackObject]
public sealed class OpenDirect : IMessage
{
    /// <summary>The other user.</summary>
    [Key(0)] public ulong PeerUserId { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.OpenDirect;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        PeerUserId == 0 ? FieldViolation.Invalid("peer_user_id") : FieldViolation.None;
}

/// <summary>Common shape of <see cref="AddMembers"/> and <see cref="RemoveMembers"/>. Answered with Ok.</summary>
public abstract class MembersChange : IMessage
{
    /// <summary>The group.</summary>
    [Key(0)] public ulong ConversationId { get; set; }

    /// <summary>Users to add or remove.</summary>
    [Key(1)] public ulong[] UserIds { get; set; } = [];

    /// <inheritdoc/>
    [IgnoreMember] public abstract MessageType Type { get; }

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits)
    {
        if (ConversationId == 0) return FieldViolation.Invalid("conversation_id");
        if (!Fields.List(UserIds, limits.MaxListItems) || UserIds.Length == 0) return FieldViolation.Invalid("user_ids");
        return FieldViolation.None;
    }
}

/// <summary>Client → server: add members to a group. Answered with Ok.</summary>
[MessagePackObject]
public sealed class AddMembers : MembersChange
{
    /// <inheritdoc/>
    [IgnoreMember] public override MessageType Type => MessageType.AddMembers;
}

/// <summary>Client → server: remove members from a group. Answered with Ok.</summary>
[MessagePackObject]
public sealed class RemoveMembers : MembersChange
{
    /// <inheritdoc/>
    [IgnoreMember] public override MessageType Type => MessageType.RemoveMembers;
}

/// <summary>Client → server: list a conversation's members in user-id order. Answered with MemberList.</summary>
[MessagePackObject]
public sealed class ListMembers : IMessage
{
    /// <summary>The conversation.</summary>
    [Key(0)] public ulong ConversationId { get; set; }

    /// <summary>Start after this user id (0 for the first page).</summary>
    [Key(1)] public ulong AfterUserId { get; set; }

    /// <summary>Most members in the page; 0 means the server's maximum.</summary>
    [Key(2)] public uint Limit { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.ListMembers;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        ConversationId == 0 ? FieldViolation.Invalid("conversation_id") : FieldViolation.None;
}

/// <summary>One member of a conversation.</summary>
[MessagePackObject]
public sealed class MemberInfo
{
    /// <summary>The member.</summary>
    [Key(0)] public ulong UserId { get; set; }

    /// <summary>The member's role.</summary>
    [Key(1)] public MemberRole Role { get; set; }

    /// <summary>When the member joined, Unix milliseconds.</summary>
    [Key(2)] public long JoinedMs { get; set; }
}

/// <summary>Server → client: a page of members.</summary>
[MessagePackObject]
public sealed class MemberList : IMessage
{
    /// <summary>The conversation.</summary>
    [Key(0)] public ulong ConversationId { get; set; }

    /// <summary>Members in user-id order.</summary>
    [Key(1)] public MemberInfo[] Members { get; set; } = [];

    /// <summary>True when more members follow: ask again with AfterUserId = the last user id.</summary>
    [Key(2)] public bool More { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.MemberList;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        Members is null || Array.Exists(Members, m => m is null) ? FieldViolation.Invalid("members") : FieldViolation.None;
}

/// <summary>Client → server: list the caller's conversations in id order. Answered with ConversationList.</summary>
[MessagePackObject]
public sealed class ListConversations : IMessage
{
    /// <summary>Start after this conversation id (0 for the first page).</summary>
    [Key(0)] public ulong AfterConversationId { get; set; }

    /// <summary>Most conversations in the page; 0 means the server's maximum.</summary>
    [Key(1)] public uint Limit { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.ListConversations;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) => FieldViolation.None;
}

/// <summary>Server → client: a page of the caller's conversations with heads and read cursors.</summary>
[MessagePackObject]
public sealed class ConversationList : IMessage
{
    /// <summary>Conversations in id order.</summary>
    [Key(0)] public ConversationInfo[] Items { get; set; } = [];

    /// <summary>True when more follow: ask again with AfterConversationId = the last id.</summary>
    [Key(1)] public bool More { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.ConversationList;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        Fields.AllValid(Items, limits) ? FieldViolation.None : FieldViolation.Invalid("items");
}
