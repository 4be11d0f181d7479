using System.Buffers;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Diagnosers;
using Microsoft.Extensions.Logging.Abstractions;
using Wren.Broker.Core;
using Wren.Protocol;
using Wren.Storage;

namespace Wren.Benchmarks;

/// <summary>
/// Live fan-out of one committed entry (<see cref="Router.FanOut(Wren.Storage.LogEntry)"/>, called synchronously, as the conversation's loop
/// calls it) to a group whose members each have one live session.
/// </summary>
/// <remarks>
/// Real code on the routing path: the <see cref="Router"/>, a <see cref="WrenStore"/> (RocksDB in a temporary
/// directory) answering the member list, and <see cref="Session"/>s of a <see cref="BrokerCore"/> over that store. Fakes
/// stand in for what fan-out only reads: the device locator (one session per member) and the sinks, which take each
/// frame the way the transport does once it has written it (count its bytes, release a <see cref="SharedFrame"/>).
/// Entries carry a <see cref="ProtocolPayload.Typical"/> body and a 36-character client message id.
/// <para>
/// <see cref="FanOut_PerMessage"/>: one operation is one entry routed to every recipient, so Allocated is bytes per
/// routed message. <see cref="FanOut_PerRecipient"/>: each invocation routes <see cref="RecipientsPerInvoke"/>
/// deliveries (1,000 entries to 1 recipient, 10 to 100, 1 to 1,000), so Mean is ns per recipient. Target: 0 bytes
/// allocated in both, and under 100 ns per recipient.
/// </para>
/// <para>
/// Each category's baseline (<c>Array_*</c>) runs the same loop over the same sessions with the entry encoded into a
/// new array per entry (<see cref="Frames.Deliver"/>) instead of a pooled frame: what the pooled frame saves, measured
/// in the same run.
/// </para>
/// </remarks>
[Config(typeof(ProtocolBenchmarkConfig))]
[MemoryDiagnoser]
public class RoutingBenchmarks : IDisposable
{
    /// <summary>Deliveries per invocation of <see cref="FanOut_PerRecipient"/>; every Recipients value divides it.</summary>
    public const int RecipientsPerInvoke = 1000;

    private const string PerMessage = "PerMessage";
    private const string PerRecipient = "PerRecipient";

    // Entries are routed round the ring; at its end every session is set back to seq 0 (once per Ring entries).
    private const int Ring = 4096;

    private string _directory = "";
    private WrenStore _store = null!;
    private BrokerCore _core = null!;
    private Router _router = null!;
    private Session[] _sessions = [];
    private BenchSink[] _sinks = [];
    private LogEntry[] _entries = [];
    private BenchLocator _locator = null!;
    private ulong _conversation;
    private int _next;
    private long _arrayDelivered;

    /// <summary>Members of the conversation, each with one live session.</summary>
    [Params(1, 100, 1000)]
    public int Recipients { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "wren-bench-routing-" + Guid.NewGuid().ToString("N"));
        // Timers never fire: their periodic work (session sweeps, cursor flushes) would count against the measured
        // allocations, which cover every thread.
        var time = new IdleTimersTimeProvider();
        _store = WrenStore.Open(new StoreOptions { DataDirectory = _directory, Durability = DurabilityMode.Async, TimeProvider = time });
        var limits = new BrokerLimits { Partitions = 1 };
        _core = new BrokerCore(_store, _store, _store, _store, limits, ProtocolLimits.Default, time, NullLoggerFactory.Instance, _store);

        // Users 1..Recipients; user 1 owns the group.
        ulong[] members = [.. Enumerable.Range(2, Recipients - 1).Select(i => (ulong)i)];
        _conversation = _store.CreateGroupAsync(1, "bench", members).AsTask().GetAwaiter().GetResult().ConversationId;

        _locator = new BenchLocator();
        _sinks = new BenchSink[Recipients];
        _sessions = new Session[Recipients];
        for (int i = 0; i < Recipients; i++)
        {
            _sinks[i] = new BenchSink();
            _sessions[i] = _core.CreateSession(_sinks[i]);
            _locator.Sessions[(ulong)(i + 1)] = [_sessions[i]];
        }

        // A router of its own, so the fan-out reads the locator above; its loop threads stay idle.
        _router = new Router(1, limits.MaxPendingOutboundBytes / 2, _store, _store, _locator, NullLogger.Instance);

        byte[] body = ProtocolCorpus.Body(ProtocolPayload.Typical);
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        _entries = new LogEntry[Ring];
        for (int i = 0; i < Ring; i++)
        {
            _entries[i] = new LogEntry(_conversation, (ulong)i + 1, 1, 1, 1, now, ProtocolCorpus.ClientMsgId(i), 1, body);
        }

        Rewind();
        Check();

        // Both paths run here until tiered compilation has settled, so BenchmarkDotNet's pilot stage sizes the
        // iterations on optimized code; sized on cold code, they come out a fraction of the intended time.
        long until = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 2;
        while (Stopwatch.GetTimestamp() < until)
        {
            Route(1, pooled: true);
            Route(1, pooled: false);
        }

        Rewind();
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _router?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _core?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _store?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Baseline: one entry to every recipient as one new array shared by all of them.</summary>
    [BenchmarkCategory(PerMessage)]
    [Benchmark(Baseline = true)]
    public void Array_PerMessage() => Route(1, pooled: false);

    /// <summary>One entry to every recipient: Mean per routed message, Allocated per routed message.</summary>
    [BenchmarkCategory(PerMessage)]
    [Benchmark]
    public void FanOut_PerMessage() => Route(1, pooled: true);

    /// <summary>Baseline: <see cref="RecipientsPerInvoke"/> deliveries, one new array per entry.</summary>
    [BenchmarkCategory(PerRecipient)]
    [Benchmark(Baseline = true, OperationsPerInvoke = RecipientsPerInvoke)]
    public void Array_PerRecipient() => Route(RecipientsPerInvoke / Recipients, pooled: false);

    /// <summary><see cref="RecipientsPerInvoke"/> deliveries: Mean per recipient.</summary>
    [BenchmarkCategory(PerRecipient)]
    [Benchmark(OperationsPerInvoke = RecipientsPerInvoke)]
    public void FanOut_PerRecipient() => Route(RecipientsPerInvoke / Recipients, pooled: true);

    private void Route(int entries, bool pooled)
    {
        for (int i = 0; i < entries; i++)
        {
            if (pooled)
            {
                _router.FanOut(_entries[_next]);
            }
            else
            {
                FanOutArray(_entries[_next]);
            }

            if (++_next == Ring)
            {
                Rewind();
            }
        }
    }

    /// <summary>
    /// The baseline's fan-out: the router's loop with the entry encoded into a new array (<see cref="Frames.Deliver"/>)
    /// that every sink keeps, as a transport without pooled frames needs it.
    /// </summary>
    private void FanOutArray(LogEntry entry)
    {
        var members = _store.GetMemberIds(entry.ConversationId);
        byte[]? frame = null;
        foreach (var userId in members)
        {
            foreach (var session in _locator.GetSessions(userId))
            {
                if (!session.TryGetLive(entry.ConversationId, out ulong last) || entry.Seq <= last)
                {
                    continue;
                }

                frame ??= Frames.Deliver(0, entry);
                session.SetLive(entry.ConversationId, entry.Seq);
                if (session.Sink.TrySend(frame))
                {
                    Interlocked.Increment(ref _arrayDelivered);
                }
            }
        }
    }

    private void Rewind()
    {
        _next = 0;
        foreach (var session in _sessions)
        {
            session.SetLive(_conversation, 0);
        }
    }

    /// <summary>Routes one entry and checks every session got exactly that Deliver, so the numbers measure the real path.</summary>
    private void Check()
    {
        Route(1, pooled: true);
        foreach (var sink in _sinks)
        {
            var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(sink.Last));
            bool whole = FrameReader.TryRead(ref reader, ProtocolLimits.Default.MaxFrameLength, out var frame, out _) == FrameStatus.Complete;
            if (sink.Frames != 1 || !whole || frame.Header.Type != (byte)MessageType.Deliver || reader.Remaining != 0)
            {
                throw new InvalidOperationException($"Benchmark input is wrong: a session got {sink.Frames} frames, not one Deliver.");
            }

            sink.Frames = 0;
        }

        Rewind();
    }

    /// <summary>The system clock, with timers that never fire.</summary>
    private sealed class IdleTimersTimeProvider : TimeProvider
    {
        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) => new IdleTimer();

        private sealed class IdleTimer : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => default;
        }
    }

    /// <summary>One session per user.</summary>
    private sealed class BenchLocator : IDeviceLocator
    {
        public Dictionary<ulong, ImmutableArray<Session>> Sessions { get; } = [];

        public ImmutableArray<Session> GetSessions(ulong userId) => Sessions.TryGetValue(userId, out var sessions) ? sessions : [];
    }

    /// <summary>
    /// Takes each frame as the transport does once it has written it: counts it and releases a pooled frame. Keeps a
    /// copy of the first frame it gets for the setup check.
    /// </summary>
    private sealed class BenchSink : IFrameSink
    {
        public int Frames { get; set; }

        public long Bytes { get; private set; }

        public byte[] Last { get; private set; } = [];

        public long PendingBytes => 0;

        public bool IsLoopback => true;

        public string RemoteAddress => "bench";

        public bool TrySend(ReadOnlyMemory<byte> frame)
        {
            if (Last.Length == 0)
            {
                Last = frame.ToArray();
            }

            Frames++;
            Bytes += frame.Length;
            if (MemoryMarshal.TryGetMemoryManager(frame, out SharedFrame? shared))
            {
                shared.Release();
            }

            return true;
        }

        public Task WaitUntilPendingAtMostAsync(long bytes) => Task.CompletedTask;

        public void Close(ReadOnlyMemory<byte> finalFrame)
        {
        }
    }
}
