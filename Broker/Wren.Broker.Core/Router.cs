using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Wren.Storage;

namespace Wren.Broker.Core;

/// <summary>Which node sequences a conversation. The seam a cluster mode replaces; on one node every conversation is local.</summary>
public interface IConversationLocator
{
    /// <summary>True when this node owns the conversation's log.</summary>
    bool IsLocal(ulong conversationId);
}

/// <summary>Single-node locator: everything is local.</summary>
public sealed class LocalConversationLocator : IConversationLocator
{
    /// <inheritdoc/>
    public bool IsLocal(ulong conversationId) => true;
}

/// <summary>Outcome of bringing one conversation live on one session.</summary>
/// <param name="Sent">Deliver frames streamed.</param>
/// <param name="SentUpTo">Last seq the session holds for the conversation after the job.</param>
/// <param name="Head">The log head when the job ran.</param>
/// <param name="Epoch">The log epoch.</param>
/// <param name="CaughtUp">True when the session is now live for the conversation.</param>
internal readonly record struct GoLiveResult(int Sent, ulong SentUpTo, ulong Head, uint Epoch, bool CaughtUp);

/// <summary>
/// Conversations are partitioned over single-consumer loops. Everything that decides what a session receives for a
/// conversation — live fan-out of committed entries and the catch-up that precedes going live — runs on that
/// conversation's loop, so the handover from catch-up to live needs no lock and can neither skip nor repeat an entry.
/// </summary>
public sealed class Router : IAsyncDisposable
{
    private readonly Channel<object>[] _queues;
    private readonly Task[] _loops;
    private readonly IMessageLog _log;
    private readonly IConversationStore _conversations;
    private readonly IDeviceLocator _devices;
    private readonly ILogger _logger;
    private readonly long _softOutboundLimit;
    private long _delivered;

    internal Router(int partitions, long softOutboundLimit, IMessageLog log, IConversationStore conversations, IDeviceLocator devices, ILogger logger)
    {
        _log = log;
        _conversations = conversations;
        _devices = devices;
        _logger = logger;
        _softOutboundLimit = softOutboundLimit;
        _queues = new Channel<object>[Math.Max(1, partitions)];
        _loops = new Task[_queues.Length];
        for (int i = 0; i < _queues.Length; i++)
        {
            _queues[i] = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });
            var reader = _queues[i].Reader;
            _loops[i] = Task.Factory.StartNew(() => RunAsync(reader), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
        }
    }

    /// <summary>Deliver frames queued to sessions since start.</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>Storage commit hook: hands each new entry to its conversation's loop, in commit order.</summary>
    internal void OnCommitted(IReadOnlyList<LogEntry> entries)
    {
        for (int i = 0; i < entries.Count; i++)
        {
            QueueFor(entries[i].ConversationId).Writer.TryWrite(entries[i]);
        }
    }

    /// <summary>
    /// Streams the session's missing entries of one conversation (seq &gt; <paramref name="fromSeq"/>, at most
    /// <paramref name="budget"/>) and, when that reaches the head, makes the session live for it.
    /// </summary>
    internal Task<GoLiveResult> GoLiveAsync(Session session, ulong conversationId, ulong fromSeq, int budget, uint requestId)
    {
        var job = new GoLiveJob(session, conversationId, fromSeq, budget, requestId);
        QueueFor(conversationId).Writer.TryWrite(job);
        return job.Completion.Task;
    }

    /// <summary>Runs <paramref name="action"/> on the conversation's loop (ordered with its fan-out).</summary>
    internal void Post(ulong conversationId, Action action) => QueueFor(conversationId).Writer.TryWrite(action);

    private Channel<object> QueueFor(ulong conversationId) => _queues[(int)(conversationId % (ulong)_queues.Length)];

    private async Task RunAsync(ChannelReader<object> reader)
    {
        // Connections that fan-out queued frames to since the last flush: a burst of entries (a commit batch) is
        // queued first and each connection then writes its share at once, on this thread.
        var touched = new HashSet<IFrameSink>(ReferenceEqualityComparer.Instance);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            int entries = 0;
            while (reader.TryRead(out var item))
            {
                try
                {
                    switch (item)
                    {
                        case LogEntry entry:
                            FanOut(entry, touched);
                            if (++entries == FlushEveryEntries)
                            {
                                Flush(touched);
                                entries = 0;
                            }

                            break;
                        case GoLiveJob job: job.Completion.TrySetResult(GoLive(job)); break;
                        case Action action: action(); break;
                    }
                }
                catch (Exception ex)
                {
                    if (item is GoLiveJob job)
                    {
                        job.Completion.TrySetException(ex);
                    }

                    CoreLog.PartitionWorkFailed(_logger, ex);
                }
            }

            Flush(touched);
        }
    }

    /// <summary>Entries fanned out before the queued frames are written even when more entries are waiting.</summary>
    private const int FlushEveryEntries = 64;

    private void Flush(HashSet<IFrameSink> touched)
    {
        foreach (var sink in touched)
        {
            try
            {
                sink.Flush();
            }
            catch (Exception ex)
            {
                CoreLog.PartitionWorkFailed(_logger, ex);
            }
        }

        touched.Clear();
    }

    /// <summary>Queues one committed entry to every session that is live for its conversation. Runs on the conversation's loop.</summary>
    /// <remarks>
    /// The entry is encoded once, on the first live recipient, into a pooled <see cref="SharedFrame"/>; this method holds
    /// one reference while it fans out and adds one per sink before queuing (released again when the sink refuses), so
    /// the frame returns to the pool once the last connection has written it. Allocates nothing in steady state.
    /// </remarks>
    internal void FanOut(LogEntry entry) => FanOut(entry, touched: null);

    /// <summary>
    /// As <see cref="FanOut(LogEntry)"/>; with <paramref name="touched"/>, frames are queued without being written and
    /// each receiving sink is added to the set, for the caller to flush.
    /// </summary>
    internal void FanOut(LogEntry entry, HashSet<IFrameSink>? touched)
    {
        var members = _conversations.GetMemberIds(entry.ConversationId);
        SharedFrame? frame = null;
        int delivered = 0;
        try
        {
            // Indexed: enumerating the interface would allocate an enumerator per entry.
            for (int i = 0; i < members.Count; i++)
            {
                foreach (var session in _devices.GetSessions(members[i]))
                {
                    if (!session.TryGetLive(entry.ConversationId, out ulong last) || entry.Seq <= last)
                    {
                        // Not live yet (its catch-up will read this entry from the log) or already streamed by catch-up.
                        continue;
                    }

                    frame ??= Frames.DeliverShared(0, entry);
                    session.SetLive(entry.ConversationId, entry.Seq);
                    frame.AddRef();
                    var sink = session.Sink;
                    if (touched is null ? sink.TrySend(frame.Memory) : sink.TryQueue(frame.Memory))
                    {
                        delivered++;
                        touched?.Add(sink);
                    }
                    else
                    {
                        frame.Release();
                    }
                }
            }
        }
        finally
        {
            frame?.Release();
            Interlocked.Add(ref _delivered, delivered);
        }
    }

    private GoLiveResult GoLive(GoLiveJob job)
    {
        var session = job.Session;
        var head = _log.GetHead(job.ConversationId);
        if (head is null || session.IsClosed)
        {
            // Nothing to stream: the conversation is gone, or the session ended and no longer receives anything.
            return new GoLiveResult(0, job.FromSeq, 0, 0, CaughtUp: head is null);
        }

        if (session.TryGetLive(job.ConversationId, out ulong live))
        {
            return new GoLiveResult(0, live, head.Value.Head, head.Value.Epoch, CaughtUp: true);
        }

        ulong position = Math.Min(job.FromSeq, head.Value.Head);
        int sent = 0;
        while (position < head.Value.Head)
        {
            if (sent >= job.Budget)
            {
                return new GoLiveResult(sent, position, head.Value.Head, head.Value.Epoch, CaughtUp: false);
            }

            // A connection with room gets larger reads; one close to the soft limit gets small steps.
            int read = session.Sink.PendingBytes < _softOutboundLimit / 4 ? 256 : 64;
            var entries = _log.ReadRange(job.ConversationId, position + 1, Math.Min(read, job.Budget - sent));
            if (entries.Count == 0)
            {
                // The rest is still being written; its commit notifications reach this loop later, in order.
                break;
            }

            // Consecutive Deliver frames go out as one buffer per batch, byte for byte what one frame per entry gives.
            int index = 0;
            var visible = session.VisibleFilter(job.ConversationId);
            while (index < entries.Count)
            {
                int first = index;
                // Shown as the session's own catch-up shows them (the filter is looked up once per read): a tail entry
                // recalled or hidden before that lookup has no body; one recalled after it is followed by its Recall event.
                if (!session.Sink.TrySend(DeliverBatch.Encode(job.RequestId, entries, ref index, transform: visible)))
                {
                    return new GoLiveResult(sent, position, head.Value.Head, head.Value.Epoch, CaughtUp: false);
                }

                position = entries[index - 1].Seq;
                sent += index - first;
                if (session.Sink.PendingBytes > _softOutboundLimit)
                {
                    // Too much for this loop to push at once: the session streams the rest at the connection's pace.
                    return new GoLiveResult(sent, position, head.Value.Head, head.Value.Epoch, CaughtUp: false);
                }
            }
        }

        // Entries committed after this point reach this loop later, in order, and continue from position.
        session.SetLive(job.ConversationId, position);
        return new GoLiveResult(sent, position, head.Value.Head, head.Value.Epoch, CaughtUp: true);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        foreach (var queue in _queues)
        {
            queue.Writer.TryComplete();
        }

        await Task.WhenAll(_loops).ConfigureAwait(false);
    }

    private sealed class GoLiveJob(Session session, ulong conversationId, ulong fromSeq, int budget, uint requestId)
    {
        public Session Session { get; } = session;
        public ulong ConversationId { get; } = conversationId;
        public ulong FromSeq { get; } = fromSeq;
        public int Budget { get; } = budget;
        public uint RequestId { get; } = requestId;
        public TaskCompletionSource<GoLiveResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
