using System.Collections.Concurrent;
using RocksDbSharp;
using Wren.Storage.Internal;

namespace Wren.Storage;

public sealed partial class WrenStore
{
    private readonly ConcurrentDictionary<CursorKey, CursorCell> _delivered = new();
    private readonly ConcurrentDictionary<(ulong UserId, ulong ConversationId), CursorCell> _read = new();
    private readonly ConcurrentQueue<CursorCell> _dirtyCursors = new();
    private int _cursorFlushQueued;

    /// <inheritdoc/>
    /// <remarks>
    /// A cursor never passes the conversation's durable head (a larger seq is clamped) and is stored with the
    /// conversation's epoch: a cursor from an older epoch counts as 0. Unknown conversations are ignored (returns 0).
    /// </remarks>
    public ulong AdvanceDelivered(ulong userId, uint deviceId, ulong conversationId, ulong seq)
    {
        if (!_conversations.TryGetValue(conversationId, out var state))
        {
            return 0;
        }

        var cell = _delivered.GetOrAdd(
            new CursorKey(userId, deviceId, conversationId),
            static key => new CursorCell(key.UserId, key.DeviceId, key.ConversationId, isRead: false));
        return Advance(cell, state, seq);
    }

    /// <inheritdoc/>
    public ulong GetDelivered(ulong userId, uint deviceId, ulong conversationId) =>
        _delivered.TryGetValue(new CursorKey(userId, deviceId, conversationId), out var cell) ? Current(cell, conversationId) : 0;

    /// <inheritdoc/>
    /// <remarks>Same rules as <see cref="AdvanceDelivered"/>: monotonic, clamped to the head, reset by a new epoch.</remarks>
    public ulong AdvanceRead(ulong userId, ulong conversationId, ulong seq)
    {
        if (!_conversations.TryGetValue(conversationId, out var state))
        {
            return 0;
        }

        var cell = _read.GetOrAdd(
            (userId, conversationId),
            static key => new CursorCell(key.UserId, 0, key.ConversationId, isRead: true));
        return Advance(cell, state, seq);
    }

    /// <inheritdoc/>
    public ulong GetRead(ulong userId, ulong conversationId) =>
        _read.TryGetValue((userId, conversationId), out var cell) ? Current(cell, conversationId) : 0;

    /// <inheritdoc/>
    /// <remarks>Reads only in-memory heads and cursors: one lookup per conversation of the user.</remarks>
    public IReadOnlyList<PendingConversation> GetPending(ulong userId, uint deviceId)
    {
        var conversations = GetUserConversations(userId);
        List<PendingConversation>? pending = null;
        foreach (var conversationId in conversations)
        {
            if (!_conversations.TryGetValue(conversationId, out var state))
            {
                continue;
            }

            var head = state.Head;
            if (head == 0)
            {
                continue;
            }

            var delivered = GetDelivered(userId, deviceId, conversationId);
            if (head > delivered)
            {
                (pending ??= []).Add(new PendingConversation(conversationId, state.Epoch, head, delivered));
            }
        }

        return pending ?? (IReadOnlyList<PendingConversation>)[];
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Runs on the writer thread between group commits and writes every changed cursor in one batch, fsynced in
    /// <see cref="DurabilityMode.Sync"/>. The periodic flush (<see cref="StoreOptions.CursorFlushInterval"/>) does the same.
    /// </remarks>
    /// <exception cref="StorageException">The write failed; the cursors stay queued for the next flush.</exception>
    public ValueTask FlushAsync() => new(RunOnWriterAsync(() =>
    {
        FlushCursorsCore();
        return true;
    }));

    private ulong Advance(CursorCell cell, ConversationState state, ulong seq)
    {
        var epoch = state.Epoch;
        seq = Math.Min(seq, state.Head);
        lock (cell)
        {
            if (cell.Epoch != epoch)
            {
                cell.Epoch = epoch;
                cell.Seq = 0;
            }

            if (seq > cell.Seq)
            {
                cell.Seq = seq;
                if (!cell.Dirty)
                {
                    cell.Dirty = true;
                    _dirtyCursors.Enqueue(cell);
                }
            }

            return cell.Seq;
        }
    }

    private ulong Current(CursorCell cell, ulong conversationId)
    {
        if (!_conversations.TryGetValue(conversationId, out var state))
        {
            return 0;
        }

        lock (cell)
        {
            return cell.Epoch == state.Epoch ? cell.Seq : 0;
        }
    }

    /// <summary>Writes every dirty cursor in one batch (writer thread).</summary>
    private void FlushCursorsCore()
    {
        if (_dirtyCursors.IsEmpty)
        {
            return;
        }

        var flushed = new List<CursorCell>();
        using var batch = new WriteBatch();
        Span<byte> key = stackalloc byte[20];
        Span<byte> value = stackalloc byte[Codec.CursorValueSize];
        while (_dirtyCursors.TryDequeue(out var cell))
        {
            lock (cell)
            {
                cell.Dirty = false;
                Codec.WriteEpochSeq(value, cell.Epoch, cell.Seq);
            }

            if (cell.IsRead)
            {
                Keys.Pair(key, cell.UserId, cell.ConversationId);
                batch.Put(key[..16], value, _readCursorsCf);
            }
            else
            {
                Keys.Cursor(key, cell.UserId, cell.DeviceId, cell.ConversationId);
                batch.Put(key, value, _cursorsCf);
            }

            flushed.Add(cell);
        }

        try
        {
            WriteDurably(batch, sync: _options.Durability == DurabilityMode.Sync);
        }
        catch (StorageException)
        {
            foreach (var cell in flushed)
            {
                lock (cell)
                {
                    if (!cell.Dirty)
                    {
                        cell.Dirty = true;
                        _dirtyCursors.Enqueue(cell);
                    }
                }
            }

            throw;
        }
    }

    private void OnCursorTimer()
    {
        if (_dirtyCursors.IsEmpty || Interlocked.Exchange(ref _cursorFlushQueued, 1) != 0)
        {
            return;
        }

        if (!TryRunInBackground(() =>
            {
                Volatile.Write(ref _cursorFlushQueued, 0);
                FlushCursorsCore();
            }))
        {
            Volatile.Write(ref _cursorFlushQueued, 0);
        }
    }
}

/// <summary>Key of a delivered cursor.</summary>
internal readonly record struct CursorKey(ulong UserId, uint DeviceId, ulong ConversationId);
