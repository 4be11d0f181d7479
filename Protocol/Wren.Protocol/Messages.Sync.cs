using MessagePack;

namespace Wren.Protocol.Messages;

/// <summary>
/// Client → server: stream one conversation's entries with seq &gt; <see cref="AfterSeq"/>, as Deliver frames carrying
/// this request's id, then SyncDone.
/// </summary>
[MessagePackObject]
public sealed class SyncConversation : IMessage
{
    /// <summary>The conversation.</summary>
    [Key(0)] public ulong ConversationId { get; set; }

    /// <summary>Last seq the client holds; 0 for none.</summary>
    [Key(1)] public ulong AfterSeq { get; set; }

    /// <summary>Epoch the client's seq belongs to; 0 when unknown. On mismatch the server streams from seq 1.</summary>
    [Key(2)] public uint Epoch { get; set; }

    /// <summary>Most entries to stream; 0 means the server's maximum.</summary>
    [Key(3)] public uint Limit { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.SyncConversation;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        ConversationId == 0 ? FieldViolation.Invalid("conversation_id") : FieldViolation.None;
}

/// <summary>A client-held position used to override the server's stored cursor in <see cref="SyncAll"/>.</summary>
[MessagePackObject]
public sealed class SyncCursor
{
    /// <summary>The conversation.</summary>
    [Key(0)] public ulong ConversationId { get; set; }

    /// <summary>Epoch the seq belongs to.</summary>
    [Key(1)] public uint Epoch { get; set; }

    /// <summary>Last seq the client holds.</summary>
    [Key(2)] public ulong Seq { get; set; }
}

/// <summary>
/// Client → server: stream everything this device is missing across all its conversations (from its delivered cursors,
/// or from the cursors given), as Deliver frames carrying this request's id, then SyncDone. One round trip.
/// </summary>
[MessagePackObject]
public sealed class SyncAll : IMessage
{
    /// <summary>Most entries to stream in this round; 0 means the server's maximum.</summary>
    [Key(0)] public uint Limit { get; set; }

    /// <summary>Positions the client holds locally; conversations not listed use the server's stored cursor.</summary>
    [Key(1)] public SyncCursor[] Cursors { get; set; } = [];

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.SyncAll;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits)
    {
        if (!Fields.List(Cursors, limits.MaxListItems)) return FieldViolation.Invalid("cursors");
        foreach (var cursor in Cursors)
        {
            if (cursor is null || cursor.ConversationId == 0) return FieldViolation.Invalid("cursors");
        }

        return FieldViolation.None;
    }
}

/// <summary>One conversation's state at the end of a sync stream.</summary>
[MessagePackObject]
public sealed class SyncState
{
    /// <summary>The conversation.</summary>
    [Key(0)] public ulong ConversationId { get; set; }

    /// <summary>The log's current epoch.</summary>
    [Key(1)] public uint Epoch { get; set; }

    /// <summary>The last seq in the log when the stream ended.</summary>
    [Key(2)] public ulong Head { get; set; }

    /// <summary>The last seq this stream delivered (or the starting position when nothing was missing).</summary>
    [Key(3)] public ulong SentUpTo { get; set; }

    /// <summary>The user's read cursor in the conversation.</summary>
    [Key(4)] public ulong ReadSeq { get; set; }
}

/// <summary>Server → client: the sync request with the same id has finished streaming.</summary>
[MessagePackObject]
public sealed class SyncDone : IMessage
{
    /// <summary>State of every conversation the stream covered.</summary>
    [Key(0)] public SyncState[] Conversations { get; set; } = [];

    /// <summary>True when the limit stopped the stream early: send the request again to continue.</summary>
    [Key(1)] public bool More { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.SyncDone;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        Conversations is null ? FieldViolation.Invalid("conversations") : FieldViolation.None;
}

/// <summary>Client → server: one page of history ending just before <see cref="BeforeSeq"/>.</summary>
[MessagePackObject]
public sealed class History : IMessage
{
    /// <summary>The conversation.</summary>
    [Key(0)] public ulong ConversationId { get; set; }

    /// <summary>Exclusive upper bound; 0 means "from the newest entry".</summary>
    [Key(1)] public ulong BeforeSeq { get; set; }

    /// <summary>Most entries in the page; 0 means the server's maximum.</summary>
    [Key(2)] public uint Limit { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.History;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        ConversationId == 0 ? FieldViolation.Invalid("conversation_id") : FieldViolation.None;
}

/// <summary>Server → client: a page of history, entries in ascending seq order.</summary>
[MessagePackObject]
public sealed class HistoryPage : IMessage
{
    /// <summary>The conversation.</summary>
    [Key(0)] public ulong ConversationId { get; set; }

    /// <summary>The log's epoch.</summary>
    [Key(1)] public uint Epoch { get; set; }

    /// <summary>The entries, oldest first.</summary>
    [Key(2)] public Deliver[] Messages { get; set; } = [];

    /// <summary>True when older entries exist: ask again with BeforeSeq = the first entry's seq.</summary>
    [Key(3)] public bool More { get; set; }

    /// <inheritdoc/>
    [IgnoreMember] public MessageType Type => MessageType.HistoryPage;

    /// <inheritdoc/>
    public FieldViolation Validate(ProtocolLimits limits) =>
        Fields.AllValid(Messages, limits) ? FieldViolation.None : FieldViolation.Invalid("messages");
}
