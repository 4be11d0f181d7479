using System.Collections.Immutable;

namespace Wren.Storage.Internal;

/// <summary>In-memory state of one conversation: description, epoch, heads and members.</summary>
/// <remarks>
/// Only the writer thread changes it. <see cref="Head"/> is the durable head that readers see; <see cref="PendingHead"/>
/// is the writer's allocation point inside the batch being built, rolled back to <see cref="Head"/> when a write fails.
/// </remarks>
internal sealed class ConversationState
{
    private ulong _head;

    public ConversationState(ulong conversationId, ConversationKind kind, string title, long createdMs, uint epoch, ulong head)
    {
        ConversationId = conversationId;
        Kind = kind;
        Title = title;
        CreatedMs = createdMs;
        Epoch = epoch;
        _head = head;
        PendingHead = head;
        Members = MembershipSnapshot.Empty;
        Record = new ConversationRecord(conversationId, kind, title, createdMs, 0);
    }

    public ulong ConversationId { get; }

    public ConversationKind Kind { get; }

    public string Title { get; private set; }

    public long CreatedMs { get; }

    public uint Epoch { get; }

    /// <summary>Last durable seq.</summary>
    public ulong Head
    {
        get => Volatile.Read(ref _head);
        set => Volatile.Write(ref _head, value);
    }

    /// <summary>Last seq allocated by the writer (writer thread only).</summary>
    public ulong PendingHead { get; set; }

    /// <summary>Id of the batch that last touched this conversation (writer thread only).</summary>
    public long BatchMark { get; set; }

    /// <summary>Current members; replaced whole on change.</summary>
    public MembershipSnapshot Members { get; private set; }

    /// <summary>Current description, rebuilt when the member count changes.</summary>
    public ConversationRecord Record { get; private set; }

    /// <summary>Replaces the title (writer thread only).</summary>
    public void SetTitle(string title)
    {
        Title = title;
        Record = Record with { Title = title };
    }

    public void SetMembers(MembershipSnapshot members)
    {
        Members = members;
        Record = new ConversationRecord(ConversationId, Kind, Title, CreatedMs, members.Ids.Length);
    }
}

/// <summary>An immutable member list: a lookup and the sorted ids (boxed once, handed out for fan-out without copying).</summary>
internal sealed class MembershipSnapshot
{
    public static readonly MembershipSnapshot Empty = new(new Dictionary<ulong, Member>());

    public MembershipSnapshot(Dictionary<ulong, Member> members)
    {
        ByUser = members;
        var ids = members.Keys.ToArray();
        Array.Sort(ids);
        Ids = ImmutableArray.Create(ids);
        IdList = Ids;
    }

    public Dictionary<ulong, Member> ByUser { get; }

    public ImmutableArray<ulong> Ids { get; }

    public IReadOnlyList<ulong> IdList { get; }
}

/// <summary>One cursor in memory; guarded by its own lock.</summary>
internal sealed class CursorCell(ulong userId, uint deviceId, ulong conversationId, bool isRead)
{
    public ulong UserId { get; } = userId;

    public uint DeviceId { get; } = deviceId;

    public ulong ConversationId { get; } = conversationId;

    /// <summary>True for a read cursor (per user), false for a delivered cursor (per device).</summary>
    public bool IsRead { get; } = isRead;

    public uint Epoch { get; set; }

    public ulong Seq { get; set; }

    /// <summary>Queued for the next flush.</summary>
    public bool Dirty { get; set; }
}
