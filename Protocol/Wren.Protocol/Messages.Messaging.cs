using MessagePack;

namespace Wren.Protocol.Messages;

/// <summary>The kind of a log entry. Version 1 clients send <see cref="Message"/> only; the rest are reserved.</summary>
public enum EntryKind : ushort
{
    /// <summary>A message with opaque content written by a member.</summary>
    Message = 0,
    /// <summary>Reserved: the sender recalled an earlier entry (body references its seq).</summary>
    Recall = 1,
    /// <summary>Reserved: the sender edited an earlier entry.</summary>
    Edit = 2,
    /// <summary>Reserved: an earlier entry was deleted by a moderator.</summary>
    Delete = 3,
    /// <summary>Reserved: a server-written event (member joined, left, role changed).</summary>
    System = 0x100,
}

/// <summary>Client → server: append a message to a conversation. Answered with SendAck once durable.</summary>
[MessagePackObject]
public sealed class Send : IMessage
{
    /// <summary>The conversation to append to.</summary>
    [Key(0)] public ulong ConversationId { get; set; }

    /// <summary>Unique per sender; a retry with the same id returns the original seq.</summary>
    [Key(1)] public string ClientMsgId { get; set; } = "";

    /// <summary>Entry kind; <see cref="EntryKind.Message"/> in version 1.</summary>
    [Key(2)] public EntryKind Kind { get; set; }

    /// <summary>Opaque content, stored and forwarded unchanged.</summary>
    [Key(3)] public byte[] Body { get; set; } = [];

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.Send;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits)
    {
        if (ConversationId == 0) return FieldViolation.Invalid("conversation_id");
        if (string.IsNullOrEmpty(ClientMsgId) || !Fields.Text(ClientMsgId, limits.MaxClientMessageIdBytes)) return FieldViolation.Invalid("client_msg_id");
        if (Kind != EntryKind.Message) return FieldViolation.Invalid("kind");
        if (Body is null) return FieldViolation.Invalid("body");
        if (Body.Length > limits.MaxMessageBodyBytes) return FieldViolation.TooLarge("body");
        return FieldViolation.None;
    }
}

/// <summary>Server → client: the Send with the same request id is durable.</summary>
[MessagePackObject]
public sealed class SendAck : IMessage
{
    /// <summary>The conversation.</summary>
    [Key(0)] public ulong ConversationId { get; set; }

    /// <summary>The entry's seq in the conversation log.</summary>
    [Key(1)] public ulong Seq { get; set; }

    /// <summary>The log's epoch.</summary>
    [Key(2)] public uint Epoch { get; set; }

    /// <summary>Server time the entry was appended, Unix milliseconds.</summary>
    [Key(3)] public long ServerTimeMs { get; set; }

    /// <summary>True when the client message id was seen before and the original seq is returned.</summary>
    [Key(4)] public bool Duplicate { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.SendAck;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) => FieldViolation.None;
}

/// <summary>
/// Server → client: one log entry. Live pushes carry request id 0; entries streamed in answer to a sync request carry
/// that request's id. The same layout is used inside HistoryPage.
/// </summary>
[MessagePackObject]
public sealed class Deliver : IMessage
{
    /// <summary>The conversation.</summary>
    [Key(0)] public ulong ConversationId { get; set; }

    /// <summary>The entry's seq: dense and strictly increasing within the conversation's epoch.</summary>
    [Key(1)] public ulong Seq { get; set; }

    /// <summary>The log's epoch; when it changes, the client drops its cursor for the conversation and resyncs.</summary>
    [Key(2)] public uint Epoch { get; set; }

    /// <summary>The author.</summary>
    [Key(3)] public ulong SenderUserId { get; set; }

    /// <summary>The author's device.</summary>
    [Key(4)] public uint SenderDeviceId { get; set; }

    /// <summary>Server time the entry was appended, Unix milliseconds.</summary>
    [Key(5)] public long ServerTimeMs { get; set; }

    /// <summary>The author's client message id.</summary>
    [Key(6)] public string ClientMsgId { get; set; } = "";

    /// <summary>Entry kind.</summary>
    [Key(7)] public EntryKind Kind { get; set; }

    /// <summary>The content exactly as the author sent it.</summary>
    [Key(8)] public byte[] Body { get; set; } = [];

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.Deliver;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits)
    {
        if (!Fields.Text(ClientMsgId, limits.MaxClientMessageIdBytes)) return FieldViolation.Invalid("client_msg_id");
        if (Body is null) return FieldViolation.Invalid("body");
        if (Body.Length > limits.MaxMessageBodyBytes) return FieldViolation.TooLarge("body");
        return FieldViolation.None;
    }
}

/// <summary>One conversation's delivered position in an <see cref="Ack"/>.</summary>
[MessagePackObject]
public sealed class AckItem
{
    /// <summary>The conversation.</summary>
    [Key(0)] public ulong ConversationId { get; set; }

    /// <summary>Every entry up to and including this seq has been processed by the device.</summary>
    [Key(1)] public ulong Seq { get; set; }
}

/// <summary>
/// Client → server: the device has processed entries. Moves the device's delivered cursors forward (never back).
/// With request id 0 there is no answer; with a non-zero id the server answers Ok once the cursors are recorded.
/// </summary>
[MessagePackObject]
public sealed class Ack : IMessage
{
    /// <summary>One item per conversation.</summary>
    [Key(0)] public AckItem[] Items { get; set; } = [];

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.Ack;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits)
    {
        if (!Fields.List(Items, limits.MaxListItems)) return FieldViolation.Invalid("items");
        foreach (var item in Items)
        {
            if (item is null || item.ConversationId == 0) return FieldViolation.Invalid("items");
        }

        return FieldViolation.None;
    }
}
