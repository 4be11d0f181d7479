using System.Buffers.Binary;
using MessagePack;

namespace Wren.Protocol.Messages;

/// <summary>
/// Client → server: set a member's role in a group (group owners and admins, within the permission table). Answered
/// with Ok.
/// </summary>
[MessagePackObject]
public sealed class SetRole : IMessage
{
    /// <summary>The group.</summary>
    [Key(0)] public ulong ConversationId { get; set; }

    /// <summary>The member whose role changes.</summary>
    [Key(1)] public ulong UserId { get; set; }

    /// <summary>The new role.</summary>
    [Key(2)] public MemberRole Role { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.SetRole;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits)
    {
        if (ConversationId == 0) return FieldViolation.Invalid("conversation_id");
        if (UserId == 0) return FieldViolation.Invalid("user_id");
        if (Role > MemberRole.Owner) return FieldViolation.Invalid("role");
        return FieldViolation.None;
    }
}

/// <summary>Client → server: change a group's settings. Answered with GroupSettings (the settings after the change).</summary>
[MessagePackObject]
public sealed class UpdateGroup : IMessage
{
    /// <summary>The group.</summary>
    [Key(0)] public ulong ConversationId { get; set; }

    /// <summary>The new title; null keeps the current one.</summary>
    [Key(1)] public string? Title { get; set; }

    /// <summary>The new read-only mode; null keeps the current one.</summary>
    [Key(2)] public bool? ReadOnly { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.UpdateGroup;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits)
    {
        if (ConversationId == 0) return FieldViolation.Invalid("conversation_id");
        if (!Fields.Text(Title, limits.MaxNameBytes, required: false)) return FieldViolation.Invalid("title");
        return FieldViolation.None;
    }
}

/// <summary>Client → server: leave a group. Answered with Ok. The last owner cannot leave.</summary>
[MessagePackObject]
public sealed class LeaveGroup : IMessage
{
    /// <summary>The group.</summary>
    [Key(0)] public ulong ConversationId { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.LeaveGroup;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        ConversationId == 0 ? FieldViolation.Invalid("conversation_id") : FieldViolation.None;
}

/// <summary>Server → client: a group's settings (answer to UpdateGroup and GetGroupSettings).</summary>
[MessagePackObject]
public sealed class GroupSettings : IMessage
{
    /// <summary>The group.</summary>
    [Key(0)] public ulong ConversationId { get; set; }

    /// <summary>The title.</summary>
    [Key(1)] public string Title { get; set; } = "";

    /// <summary>True when only admins and owners may send (a read-only channel).</summary>
    [Key(2)] public bool ReadOnly { get; set; }

    /// <summary>How long after sending a member may recall their own message, in milliseconds (server-wide).</summary>
    [Key(3)] public uint RecallWindowMs { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.GroupSettings;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        Fields.Text(Title, limits.MaxNameBytes) ? FieldViolation.None : FieldViolation.Invalid("title");
}

/// <summary>Client → server: a group's settings. Answered with GroupSettings.</summary>
[MessagePackObject]
public sealed class GetGroupSettings : IMessage
{
    /// <summary>The group.</summary>
    [Key(0)] public ulong ConversationId { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.GetGroupSettings;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        ConversationId == 0 ? FieldViolation.Invalid("conversation_id") : FieldViolation.None;
}

/// <summary>
/// Common shape of <see cref="Recall"/>, <see cref="Edit"/> and <see cref="Delete"/>: a request that appends an event
/// entry referencing an earlier message. Answered with SendAck once the event is durable.
/// </summary>
public abstract class MessageAmendment : IMessage
{
    /// <summary>The conversation.</summary>
    [Key(0)] public ulong ConversationId { get; set; }

    /// <summary>Unique per sender, like a Send's; a retry with the same id returns the original seq.</summary>
    [Key(1)] public string ClientMsgId { get; set; } = "";

    /// <summary>The seq of the message the event applies to.</summary>
    [Key(2)] public ulong TargetSeq { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public abstract MessageType Type { get; }

    /// <summary>The entry kind the event is stored as.</summary>
    [IgnoreMember] public abstract EntryKind EntryKind { get; }

    /// <inheritdoc/>
    public virtual FieldViolation Validate(ProtocolLimits limits)
    {
        if (ConversationId == 0) return FieldViolation.Invalid("conversation_id");
        if (string.IsNullOrEmpty(ClientMsgId) || !Fields.Text(ClientMsgId, limits.MaxClientMessageIdBytes)) return FieldViolation.Invalid("client_msg_id");
        if (TargetSeq == 0) return FieldViolation.Invalid("target_seq");
        return FieldViolation.None;
    }

    /// <summary>The stored event body: the target seq (8 bytes, big-endian), then any new content.</summary>
    public virtual byte[] EventBody()
    {
        var body = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(body, TargetSeq);
        return body;
    }

    /// <summary>Reads the target seq of a Recall, Edit or Delete entry body; false when the body is shorter than 8 bytes.</summary>
    public static bool TryReadTarget(ReadOnlySpan<byte> body, out ulong targetSeq)
    {
        if (body.Length < 8)
        {
            targetSeq = 0;
            return false;
        }

        targetSeq = BinaryPrimitives.ReadUInt64BigEndian(body);
        return true;
    }
}

/// <summary>Client → server: recall (unsend) a message. Appends a Recall entry; answered with SendAck.</summary>
[MessagePackObject]
public sealed class Recall : MessageAmendment
{
    /// <inheritdoc/>
    [IgnoreMember] public override MessageType Type => MessageType.Recall;

    /// <inheritdoc/>
    [IgnoreMember] public override EntryKind EntryKind => EntryKind.Recall;
}

/// <summary>Client → server: replace the content of the caller's own message. Appends an Edit entry; answered with SendAck.</summary>
[MessagePackObject]
public sealed class Edit : MessageAmendment
{
    /// <summary>The new opaque content.</summary>
    [Key(3)] public byte[] Body { get; set; } = [];

    /// <inheritdoc/>
    [IgnoreMember] public override MessageType Type => MessageType.Edit;

    /// <inheritdoc/>
    [IgnoreMember] public override EntryKind EntryKind => EntryKind.Edit;

    /// <inheritdoc/>
    public override FieldViolation Validate(ProtocolLimits limits)
    {
        var violation = base.Validate(limits);
        if (!violation.IsNone) return violation;
        if (Body is null) return FieldViolation.Invalid("body");
        if (Body.Length + 8 > limits.MaxMessageBodyBytes) return FieldViolation.TooLarge("body");
        return FieldViolation.None;
    }

    /// <inheritdoc/>
    public override byte[] EventBody()
    {
        var body = new byte[8 + Body.Length];
        BinaryPrimitives.WriteUInt64BigEndian(body, TargetSeq);
        Body.CopyTo(body, 8);
        return body;
    }
}

/// <summary>Client → server (group moderators): delete a member's message. Appends a Delete entry; answered with SendAck.</summary>
[MessagePackObject]
public sealed class Delete : MessageAmendment
{
    /// <inheritdoc/>
    [IgnoreMember] public override MessageType Type => MessageType.Delete;

    /// <inheritdoc/>
    [IgnoreMember] public override EntryKind EntryKind => EntryKind.Delete;
}

/// <summary>
/// Client → server: hide messages from the caller's own view on all of the caller's devices. Answered with Ok; the
/// caller's other online devices get a HiddenList push with the newly hidden seqs.
/// </summary>
[MessagePackObject]
public sealed class DeleteForMe : IMessage
{
    /// <summary>The conversation.</summary>
    [Key(0)] public ulong ConversationId { get; set; }

    /// <summary>The seqs to hide (1–1,000).</summary>
    [Key(1)] public ulong[] Seqs { get; set; } = [];

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.DeleteForMe;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits)
    {
        if (ConversationId == 0) return FieldViolation.Invalid("conversation_id");
        if (!Fields.List(Seqs, limits.MaxListItems) || Seqs.Length == 0 || Array.IndexOf(Seqs, 0UL) >= 0) return FieldViolation.Invalid("seqs");
        return FieldViolation.None;
    }
}

/// <summary>Client → server: the seqs the caller has hidden in a conversation. Answered with HiddenList.</summary>
[MessagePackObject]
public sealed class ListHidden : IMessage
{
    /// <summary>The conversation.</summary>
    [Key(0)] public ulong ConversationId { get; set; }

    /// <summary>Only seqs above this one.</summary>
    [Key(1)] public ulong AfterSeq { get; set; }

    /// <summary>At most this many (0 = server maximum).</summary>
    [Key(2)] public uint Limit { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.ListHidden;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        ConversationId == 0 ? FieldViolation.Invalid("conversation_id") : FieldViolation.None;
}

/// <summary>
/// Server → client: seqs the user has hidden in a conversation (answer to ListHidden, or a push to the user's other
/// devices after a DeleteForMe).
/// </summary>
[MessagePackObject]
public sealed class HiddenList : IMessage
{
    /// <summary>The conversation.</summary>
    [Key(0)] public ulong ConversationId { get; set; }

    /// <summary>Hidden seqs, ascending.</summary>
    [Key(1)] public ulong[] Seqs { get; set; } = [];

    /// <summary>True when more seqs follow the last one.</summary>
    [Key(2)] public bool More { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.HiddenList;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        Fields.List(Seqs, limits.MaxListItems) ? FieldViolation.None : FieldViolation.Invalid("seqs");
}
