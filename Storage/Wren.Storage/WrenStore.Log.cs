using System.Security.Cryptography;
using System.Text;
using RocksDbSharp;
using Wren.Storage.Internal;

namespace Wren.Storage;

public sealed partial class WrenStore
{
    private readonly Dictionary<(ulong Sender, string ClientMsgId), PendingAppend> _batchDedup;
    private readonly List<PendingAppend> _staged;

    // WriteStagedRecords' reusable list: the batch's new entries (those of _staged with an Entry) in key order.
    private readonly List<PendingAppend> _toWrite;
    private readonly List<ConversationState> _touched = [];
    private readonly WriteBatch _batch = new();
    private byte[] _scratch = new byte[64 * 1024];
    private int _stagedBytes;
    private long _batchId = 1;
    private long _messageReads;
    private Action<IReadOnlyList<LogEntry>>? _committed;

    /// <inheritdoc/>
    public Action<IReadOnlyList<LogEntry>>? Committed
    {
        get => Volatile.Read(ref _committed);
        set => Volatile.Write(ref _committed, value);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// <para>
    /// Seqs are assigned by the store's single writer loop in the order appends are taken from its queue; the message,
    /// the new head and the dedup record are written in one WriteBatch. Completions of one batch happen after the
    /// <see cref="Committed"/> callback for that batch has returned.
    /// </para>
    /// <para>
    /// The store keeps a reference to <see cref="AppendRequest.Body"/> (no copy): the new entry's body is the same
    /// memory, so the caller must not reuse it. Cancellation is honoured until the writer takes the append into a batch;
    /// after that the append completes normally. When the queue is full, the call waits for room (back-pressure).
    /// A failed write completes the append with <see cref="AppendStatus.Unavailable"/>; nothing of it is stored.
    /// </para>
    /// </remarks>
    /// <exception cref="ArgumentException">The client message id is empty or longer than <see cref="StoreOptions.MaxClientMsgIdBytes"/>.</exception>
    /// <exception cref="ObjectDisposedException">The store is closed.</exception>
    public ValueTask<AppendResult> AppendAsync(AppendRequest request, CancellationToken cancellationToken = default) =>
        AppendAsync(request, AppendCompletion.ThreadPool, cancellationToken);

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The client message id is empty or longer than <see cref="StoreOptions.MaxClientMsgIdBytes"/>.</exception>
    /// <exception cref="ObjectDisposedException">The store is closed.</exception>
    public ValueTask<AppendResult> AppendAsync(AppendRequest request, AppendCompletion completion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrEmpty(request.ClientMsgId) || Encoding.UTF8.GetByteCount(request.ClientMsgId) > StoreOptions.MaxClientMsgIdBytes)
        {
            ThrowBadClientMsgId();
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<AppendResult>(cancellationToken);
        }

        if (!_conversations.ContainsKey(request.ConversationId))
        {
            return new ValueTask<AppendResult>(new AppendResult(AppendStatus.NotFound, null));
        }

        var pending = new PendingAppend(request, BodyHash(request.Body.Span), cancellationToken, completion);
        return _queue.Writer.TryWrite(pending) ? pending.AsValueTask() : EnqueueAndWaitAsync(pending);
    }

    private async ValueTask<AppendResult> EnqueueAndWaitAsync(PendingAppend pending)
    {
        try
        {
            await _queue.Writer.WriteAsync(pending, pending.CancellationToken).ConfigureAwait(false);
        }
        catch (System.Threading.Channels.ChannelClosedException)
        {
            throw new ObjectDisposedException(nameof(WrenStore));
        }

        return await pending.AsValueTask().ConfigureAwait(false);
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void ThrowBadClientMsgId() =>
        throw new ArgumentException($"ClientMsgId must be 1 to {StoreOptions.MaxClientMsgIdBytes} UTF-8 bytes.", "request");

    /// <summary>First 64 bits of the body's SHA-256, compared on retries to tell a duplicate from a conflict.</summary>
    private static ulong BodyHash(ReadOnlySpan<byte> body)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(body, hash);
        return Keys.ReadU64(hash);
    }

    /// <inheritdoc/>
    public LogHead? GetHead(ulong conversationId) =>
        _conversations.TryGetValue(conversationId, out var state) ? new LogHead(state.Epoch, state.Head) : null;

    /// <inheritdoc/>
    /// <remarks>Only durable entries (seq ≤ the head) are returned; fromSeq 0 reads from 1.</remarks>
    /// <exception cref="StorageCorruptException">A record fails to parse or decrypt, or the log has a gap.</exception>
    public IReadOnlyList<LogEntry> ReadRange(ulong conversationId, ulong fromSeq, int limit)
    {
        if (limit <= 0 || !_conversations.TryGetValue(conversationId, out var state))
        {
            return [];
        }

        var head = state.Head;
        fromSeq = Math.Max(fromSeq, 1);
        if (fromSeq > head)
        {
            return [];
        }

        var last = head - fromSeq < (ulong)limit ? head : fromSeq + (ulong)limit - 1;
        return ReadSpan(conversationId, fromSeq, last);
    }

    /// <inheritdoc/>
    /// <exception cref="StorageCorruptException">A record fails to parse or decrypt, or the log has a gap.</exception>
    public IReadOnlyList<LogEntry> ReadBefore(ulong conversationId, ulong beforeSeq, int limit)
    {
        if (limit <= 0 || !_conversations.TryGetValue(conversationId, out var state))
        {
            return [];
        }

        var head = state.Head;
        var last = beforeSeq == 0 ? head : Math.Min(beforeSeq - 1, head);
        if (last == 0)
        {
            return [];
        }

        var first = last < (ulong)limit ? 1 : last - (ulong)limit + 1;
        return ReadSpan(conversationId, first, last);
    }

    /// <summary>Reads seqs [first, last] (all durable) with one bounded iterator.</summary>
    private LogEntry[] ReadSpan(ulong conversationId, ulong first, ulong last)
    {
        var count = checked((int)(last - first + 1));
        var entries = new LogEntry[count];
        var lower = Keys.Pair(conversationId, first);
        var upper = last == ulong.MaxValue ? Keys.Pair(conversationId + 1, 0) : Keys.Pair(conversationId, last + 1);
        if (!_rangeReadOptions.TryDequeue(out var readOptions))
        {
            readOptions = new ReadOptions();
        }

        Enter();
        try
        {
            Interlocked.Increment(ref _messageReads);
            readOptions.SetIterateLowerBound(lower).SetIterateUpperBound(upper);
            using var iterator = _db.NewIterator(_messagesCf, readOptions);
            var bodies = default(BodyArena);
            var expected = first;
            var i = 0;
            for (iterator.Seek(lower); iterator.Valid(); iterator.Next())
            {
                var seq = Keys.ReadU64(iterator.GetKeySpan()[8..]);
                if (seq != expected)
                {
                    break;
                }

                entries[i++] = Codec.ReadMessage(conversationId, seq, iterator.GetValueSpan(), _cipher, ref bodies);
                expected++;
            }

            if (i != count)
            {
                throw new StorageCorruptException(
                    $"The log of conversation {conversationId} has a gap at seq {expected} (head {last} or beyond is durable).");
            }
        }
        finally
        {
            Exit();
            _rangeReadOptions.Enqueue(readOptions);
        }

        return entries;
    }

    /// <summary>Reads one entry; null when absent.</summary>
    private LogEntry? ReadEntry(ulong conversationId, ulong seq)
    {
        Span<byte> key = stackalloc byte[16];
        Keys.Pair(key, conversationId, seq);
        Enter();
        try
        {
            Interlocked.Increment(ref _messageReads);
            var value = _db.Get(key, _messagesCf, _pointRead);
            if (value is null)
            {
                return null;
            }

            var bodies = default(BodyArena);
            return Codec.ReadMessage(conversationId, seq, value, _cipher, ref bodies);
        }
        finally
        {
            Exit();
        }
    }

    private void WriterLoop()
    {
        var reader = _queue.Reader;
        try
        {
            while (true)
            {
                if (!reader.TryRead(out var item))
                {
                    CommitBatch();
                    var wait = reader.WaitToReadAsync();
                    var more = wait.IsCompletedSuccessfully ? wait.Result : wait.AsTask().GetAwaiter().GetResult();
                    if (!more)
                    {
                        break;
                    }

                    continue;
                }

                if (!EnsureWritable())
                {
                    FailClosed(item);
                    continue;
                }

                if (item is PendingAppend append)
                {
                    try
                    {
                        Stage(append);
                    }
                    catch (Exception e)
                    {
                        append.Fail(e);
                    }

                    if (_staged.Count >= _options.MaxBatchCount || _stagedBytes >= _options.MaxBatchBytes)
                    {
                        CommitBatch();
                    }
                }
                else if (item is WriterOperation operation)
                {
                    CommitBatch();
                    operation.Run();
                }
            }

            CommitBatch();
            try
            {
                FlushCursorsCore();
            }
            catch (StorageException)
            {
                Interlocked.Increment(ref _backgroundFailures);
            }
        }
        catch (Exception e)
        {
            // Not expected: fail everything still waiting rather than leave callers hanging.
            FailAll(e);
        }
        finally
        {
            _writerDone.TrySetResult();
        }
    }

    private void FailAll(Exception exception)
    {
        _queue.Writer.TryComplete();
        foreach (var append in _staged)
        {
            append.Fail(exception);
        }

        _staged.Clear();
        while (_queue.Reader.TryRead(out var item))
        {
            if (item is PendingAppend append)
            {
                append.Fail(exception);
            }
            else if (item is WriterOperation operation)
            {
                operation.Fail(exception);
            }
        }
    }

    /// <summary>Checks dedup, allocates the seq and stages the append (its records join the batch at commit).</summary>
    private void Stage(PendingAppend append)
    {
        var request = append.Request;
        if (append.CancellationToken.IsCancellationRequested)
        {
            append.Fail(new OperationCanceledException(append.CancellationToken));
            return;
        }

        if (!_conversations.TryGetValue(request.ConversationId, out var state))
        {
            append.Complete(new AppendResult(AppendStatus.NotFound, null));
            return;
        }

        var batchKey = (request.SenderUserId, request.ClientMsgId);
        if (_batchDedup.TryGetValue(batchKey, out var first))
        {
            // The same rule as Retry for an append already durable: same conversation, kind and body.
            if (first.Request.ConversationId == request.ConversationId && first.Request.Kind == request.Kind
                && first.BodyHash == append.BodyHash && first.Request.Body.Span.SequenceEqual(request.Body.Span))
            {
                append.DuplicateOf = first;
            }
            else
            {
                append.InBatchConflict = true;
            }

            _staged.Add(append);
            return;
        }

        var now = NowMs();
        Span<byte> dedupKey = stackalloc byte[8 + StoreOptions.MaxClientMsgIdBytes];
        dedupKey = dedupKey[..Keys.DedupKey(dedupKey, request.SenderUserId, request.ClientMsgId)];
        var existing = _db.Get(dedupKey, _dedupCf, _pointRead);
        if (existing is not null)
        {
            var record = Codec.ReadDedup(existing);
            if (record.ExpiresMs > now)
            {
                append.Complete(Retry(request, append.BodyHash, record));
                return;
            }
        }

        if (state.BatchMark != _batchId)
        {
            state.BatchMark = _batchId;
            _touched.Add(state);
        }

        var seq = ++state.PendingHead;
        var entry = new LogEntry(
            request.ConversationId, seq, state.Epoch, request.SenderUserId, request.SenderDeviceId, now,
            request.ClientMsgId, request.Kind, request.Body);
        append.Entry = entry;

        // The message, dedup and expiry records go into the batch at commit, in key order (WriteStagedRecords).
        append.DedupExpiresMs = now + (long)_options.DedupWindow.TotalMilliseconds;
        var size = Codec.MessageSize(dedupKey.Length - 8, request.Body.Length, _cipher is not null);
        if (_scratch.Length < size)
        {
            _scratch = new byte[Math.Max(size, _scratch.Length * 2)];
        }

        _batchDedup[batchKey] = append;
        _staged.Add(append);
        _stagedBytes += size;
    }

    /// <summary>
    /// Adds the message, dedup and dedup-expiry records of the batch's new entries to the write batch, sorted by
    /// conversation and seq. RocksDB inserts a batch into each family's memtable in batch order and starts each skiplist
    /// search from the previous insert's position: in arrival order, the entries of concurrent conversations (and their
    /// senders' dedup records) jump between distant keys and each insert searches from far away (docs/storage.md);
    /// sorted, each conversation's entries are a run of neighbouring keys. The records are
    /// one atomic batch either way, and no two of them share a key, so the order changes nothing else.
    /// </summary>
    private void WriteStagedRecords()
    {
        _toWrite.Clear();
        foreach (var append in _staged)
        {
            if (append.Entry is not null)
            {
                _toWrite.Add(append);
            }
        }

        _toWrite.Sort(static (a, b) =>
        {
            int byConversation = a.Entry!.ConversationId.CompareTo(b.Entry!.ConversationId);
            return byConversation != 0 ? byConversation : a.Entry.Seq.CompareTo(b.Entry.Seq);
        });

        Span<byte> messageKey = stackalloc byte[16];
        Span<byte> dedupBuffer = stackalloc byte[8 + StoreOptions.MaxClientMsgIdBytes];
        Span<byte> dedupValue = stackalloc byte[Codec.DedupValueSize];
        Span<byte> expiryBuffer = stackalloc byte[16 + StoreOptions.MaxClientMsgIdBytes];
        foreach (var append in _toWrite)
        {
            var entry = append.Entry!;

            // Stage grew _scratch to the largest record of the batch.
            var length = Codec.WriteMessage(_scratch, entry, _cipher);
            Keys.Pair(messageKey, entry.ConversationId, entry.Seq);
            _batch.Put(messageKey, _scratch.AsSpan(0, length), _messagesCf);

            var dedupKey = dedupBuffer[..Keys.DedupKey(dedupBuffer, entry.SenderUserId, entry.ClientMsgId)];
            Codec.WriteDedup(dedupValue, new DedupRecord(entry.ConversationId, entry.Seq, entry.Epoch, append.BodyHash, append.DedupExpiresMs));
            _batch.Put(dedupKey, dedupValue, _dedupCf);
            var expiryKey = expiryBuffer[..Keys.DedupExpiryKey(expiryBuffer, append.DedupExpiresMs, dedupKey)];
            _batch.Put(expiryKey, ReadOnlySpan<byte>.Empty, _dedupExpiryCf);
        }

        _toWrite.Clear();
    }

    /// <summary>Answers a retry of an append that is already durable: the original entry, or Conflict.</summary>
    private AppendResult Retry(AppendRequest request, ulong bodyHash, DedupRecord record)
    {
        if (record.ConversationId != request.ConversationId || record.BodyHash != bodyHash)
        {
            return new AppendResult(AppendStatus.Conflict, null);
        }

        var original = ReadEntry(record.ConversationId, record.Seq)
            ?? throw new StorageCorruptException(
                $"A dedup record points at message {record.ConversationId}:{record.Seq}, which does not exist.");
        return original.Body.Span.SequenceEqual(request.Body.Span) && original.Kind == request.Kind
            ? new AppendResult(AppendStatus.Duplicate, original)
            : new AppendResult(AppendStatus.Conflict, null);
    }

    /// <summary>Writes the batch being built (with one head record per touched conversation), then completes its waiters.</summary>
    private void CommitBatch()
    {
        if (_staged.Count == 0)
        {
            return;
        }

        WriteStagedRecords();
        Span<byte> headKey = stackalloc byte[9];
        Span<byte> headValue = stackalloc byte[Codec.HeadValueSize];
        foreach (var state in _touched)
        {
            Keys.Conversation(headKey, state.ConversationId, Keys.ConversationHeadTag);
            Codec.WriteEpochSeq(headValue, state.Epoch, state.PendingHead);
            _batch.Put(headKey, headValue, _conversationsCf);
        }

        var ackFirst = _options.TestAckBeforeWrite;
        if (ackFirst)
        {
            // Test hook (the negative control of crash harnesses): the batch is acknowledged, then held back, then
            // written, so a SIGKILL in between loses appends that were acknowledged.
            NotifyAndComplete();
            Thread.Sleep(_options.TestAckBeforeWriteDelay);
        }

        var written = false;
        try
        {
            BeforeWrite?.Invoke();
            _db.Write(_batch, _appendWrite);
            written = true;
        }
        catch (RocksDbSharpException)
        {
            // Reported to every waiter of the batch as Unavailable below; the writer reopens the database once it can.
            OnWriteFailed();
        }

        if (written)
        {
            AdvanceHeads();
            if (!ackFirst)
            {
                NotifyAndComplete();
            }
        }
        else
        {
            foreach (var state in _touched)
            {
                state.PendingHead = state.Head;
            }

            if (!ackFirst)
            {
                foreach (var append in _staged)
                {
                    append.Complete(new AppendResult(AppendStatus.Unavailable, null));
                }
            }
        }

        _batch.Clear();
        _staged.Clear();
        _touched.Clear();
        _batchDedup.Clear();
        _stagedBytes = 0;
        _batchId++;
    }

    /// <summary>Makes the written batch visible to readers.</summary>
    private void AdvanceHeads()
    {
        foreach (var state in _touched)
        {
            state.Head = state.PendingHead;
        }
    }

    /// <summary>Hands the batch's new entries to <see cref="Committed"/>, then completes its waiters.</summary>
    private void NotifyAndComplete()
    {
        var newCount = 0;
        foreach (var append in _staged)
        {
            if (append.Entry is not null)
            {
                newCount++;
            }
        }

        var committed = new LogEntry[newCount];
        var i = 0;
        foreach (var append in _staged)
        {
            if (append.Entry is { } entry)
            {
                committed[i++] = entry;
            }
        }

        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _batchedAppends, newCount);
        try
        {
            Committed?.Invoke(committed);
        }
        catch (Exception)
        {
            // A faulty subscriber must not stop the log; the entries are durable and readable.
            Interlocked.Increment(ref _backgroundFailures);
        }

        foreach (var append in _staged)
        {
            if (append.Entry is { } entry)
            {
                append.Complete(new AppendResult(AppendStatus.Appended, entry));
            }
            else if (append.DuplicateOf is { Entry: { } original })
            {
                append.Complete(new AppendResult(AppendStatus.Duplicate, original));
            }
            else
            {
                append.Complete(new AppendResult(AppendStatus.Conflict, null));
            }
        }
    }

    /// <summary>Deletes dedup records that expired, walking the expiry index from the oldest (writer thread).</summary>
    private int SweepExpiredDedupCore(int maxRecords)
    {
        var now = NowMs();
        var upper = Keys.U64((ulong)Math.Max(now, 0) + 1);
        var readOptions = new ReadOptions().SetIterateUpperBound(upper);
        using var batch = new WriteBatch();
        var swept = 0;
        using (var iterator = _db.NewIterator(_dedupExpiryCf, readOptions))
        {
            for (iterator.SeekToFirst(); iterator.Valid() && swept < maxRecords; iterator.Next())
            {
                var expiryKey = iterator.GetKeySpan();
                var dedupKey = expiryKey[8..];
                var value = _db.Get(dedupKey, _dedupCf, _pointRead);
                if (value is not null && Codec.ReadDedup(value).ExpiresMs <= now)
                {
                    batch.Delete(dedupKey, _dedupCf);
                }

                batch.Delete(expiryKey, _dedupExpiryCf);
                swept++;
            }
        }

        GC.KeepAlive(readOptions);
        if (swept > 0)
        {
            WriteDurably(batch, sync: false);
        }

        return swept;
    }

    /// <summary>Runs a dedup sweep now (tests and operators); returns the number of expiry entries processed.</summary>
    internal Task<int> SweepExpiredDedupAsync(int maxRecords = 10_000) => RunOnWriterAsync(() => SweepExpiredDedupCore(maxRecords));

    private int _sweepQueued;

    private void OnSweepTimer()
    {
        if (Interlocked.Exchange(ref _sweepQueued, 1) == 0
            && !TryRunInBackground(() =>
            {
                Volatile.Write(ref _sweepQueued, 0);
                SweepExpiredDedupCore(10_000);
            }))
        {
            Volatile.Write(ref _sweepQueued, 0);
        }
    }

    /// <summary>Test hook: the raw stored value of a message.</summary>
    internal byte[]? GetRawMessage(ulong conversationId, ulong seq) => _db.Get(Keys.Pair(conversationId, seq), _messagesCf, _pointRead);

    /// <summary>Test hook: overwrites the raw stored value of a message (on the writer thread).</summary>
    internal Task PutRawMessageAsync(ulong conversationId, ulong seq, byte[] value) => RunOnWriterAsync(() =>
    {
        using var batch = new WriteBatch();
        batch.Put(Keys.Pair(conversationId, seq), value, _messagesCf);
        WriteDurably(batch);
        return true;
    });
}
