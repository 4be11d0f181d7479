using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging.Abstractions;
using Wren.Broker.Core;
using Wren.Protocol;
using Wren.Storage;

namespace Wren.Broker.Tests;

/// <summary>
/// Reference counting of <see cref="SharedFrame"/>: a frame goes back to the pool only with its last reference, so no
/// connection ever writes a buffer that already holds another frame; and the router's fan-out takes and gives back
/// references as <see cref="IFrameSink.TrySend"/> documents.
/// </summary>
/// <remarks>
/// The frame pool is shared by the whole test process, and other tests' brokers rent from it at the same time: these
/// tests never assume which frame the pool hands out next, only which frames it must not hand out.
/// </remarks>
public class SharedFrameTests
{
    // Far more rentals than the pool holds, so a held frame that had wrongly gone back would be handed out.
    private const int Rentals = 5000;

    [Fact]
    public void Rent_NewFrame_HoldsOneReferenceAndRequestedLength()
    {
        var frame = SharedFrame.Rent(300);

        Assert.Equal(1, frame.References);
        Assert.Equal(300, frame.Length);
        Assert.Equal(300, frame.Memory.Length);
        Assert.True(MemoryMarshal.TryGetMemoryManager((ReadOnlyMemory<byte>)frame.Memory, out SharedFrame? found));
        Assert.Same(frame, found);
        frame.Release();
    }

    [Fact]
    public void Release_WhileReferencesRemain_FrameIsNotReused()
    {
        var held = SharedFrame.Rent(64);
        held.GetSpan().Fill(0xAB);
        held.AddRef();
        held.AddRef();
        held.Release();
        held.Release();

        Assert.Equal(1, held.References);
        AssertNeverRented(held);
        Assert.All(held.GetSpan().ToArray(), b => Assert.Equal(0xAB, b));
        held.Release();
    }

    [Fact]
    public void Release_LastReference_FrameIsReused()
    {
        var frame = SharedFrame.Rent(64);
        frame.AddRef();
        frame.Release();
        frame.Release();

        Assert.Equal(0, frame.References);

        // Back in the pool: a later rental gets it (another test may rent it first, and gives it back when done).
        bool reused = false;
        for (int i = 0; i < Rentals && !reused; i++)
        {
            var rented = SharedFrame.Rent(64);
            reused = ReferenceEquals(rented, frame);
            rented.Release();
        }

        Assert.True(reused, "A frame whose last reference was released never came back from the pool.");
    }

    [Fact]
    public void FanOut_SinksThatKeepTheFrame_HoldTheOnlyReferencesAfterwards()
    {
        using var harness = new FanOutHarness();
        var keeping = new KeepingSink(accept: true);
        var refusing = new KeepingSink(accept: false);
        harness.AddLiveSession(keeping);
        harness.AddLiveSession(refusing);
        harness.AddLiveSession(keeping);

        harness.Router.FanOut(harness.Entry(seq: 1));

        // Two accepted sends, one reference each; the router's own and the refused send's are given back.
        Assert.Equal(2, keeping.Frames.Count);
        Assert.Single(refusing.Frames);
        Assert.True(MemoryMarshal.TryGetMemoryManager(keeping.Frames[0], out SharedFrame? frame));
        Assert.Equal(2, frame.References);
        Assert.Equal(Frames.Deliver(0, harness.Entry(seq: 1)), keeping.Frames[0].ToArray());

        frame.Release();
        AssertNeverRented(frame);
        frame.Release();
        Assert.Equal(0, frame.References);
    }

    [Fact]
    public void FanOut_EntryNotPastSessionPosition_IsNotSent()
    {
        using var harness = new FanOutHarness();
        var live = new KeepingSink(accept: true);
        var notLive = new KeepingSink(accept: true);
        harness.AddLiveSession(live);
        harness.AddSession(notLive);

        harness.Router.FanOut(harness.Entry(seq: 1));
        harness.Router.FanOut(harness.Entry(seq: 1));
        harness.Router.FanOut(harness.Entry(seq: 2));

        Assert.Equal(2, live.Frames.Count);
        Assert.Equal(Frames.Deliver(0, harness.Entry(seq: 1)), live.Frames[0].ToArray());
        Assert.Equal(Frames.Deliver(0, harness.Entry(seq: 2)), live.Frames[1].ToArray());
        Assert.Empty(notLive.Frames);
    }

    /// <summary>
    /// The partition loop queues fan-out with <see cref="IFrameSink.TryQueue"/> and must flush every sink it queued to,
    /// also in the middle of a burst longer than its flush period: a sink that only writes on Flush receives all frames,
    /// in seq order, and nothing stays queued.
    /// </summary>
    [Fact]
    public async Task PartitionLoop_QueuedFanOut_IsFlushedToEverySink()
    {
        using var harness = new FanOutHarness();
        var sinks = Enumerable.Range(0, 3).Select(_ => new FlushingSink()).ToList();
        foreach (var sink in sinks)
        {
            harness.AddLiveSession(sink);
        }

        const int Count = 200;
        harness.Router.OnCommitted([.. Enumerable.Range(1, Count).Select(i => harness.Entry((ulong)i))]);

        await Await.UntilAsync(() => sinks.All(s => s.Written.Count == Count), $"{Count} frames written to each sink");
        foreach (var sink in sinks)
        {
            Assert.Equal(0, sink.Queued);
            Assert.Equal(0, sink.SentDirectly);
            Assert.Equal(Enumerable.Range(1, Count).Select(i => Frames.Deliver(0, harness.Entry((ulong)i))), sink.Written);
            Assert.True(sink.Flushes < Count, $"{sink.Flushes} flushes for {Count} frames: the loop flushed per frame");
        }
    }

    private static void AssertNeverRented(SharedFrame held)
    {
        for (int i = 0; i < Rentals; i++)
        {
            var rented = SharedFrame.Rent(64);
            Assert.NotSame(held, rented);
            rented.GetSpan().Fill(0xCD);
            rented.Release();
        }
    }

    /// <summary>A sink that keeps every frame it is given and never releases one; it accepts or refuses them all.</summary>
    private sealed class KeepingSink(bool accept) : IFrameSink
    {
        public List<ReadOnlyMemory<byte>> Frames { get; } = [];

        public long PendingBytes => 0;

        public bool IsLoopback => true;

        public string RemoteAddress => "test";

        public bool TrySend(ReadOnlyMemory<byte> frame)
        {
            Frames.Add(frame);
            return accept;
        }

        public Task WaitUntilPendingAtMostAsync(long bytes) => Task.CompletedTask;

        public void Close(ReadOnlyMemory<byte> finalFrame)
        {
        }
    }

    /// <summary>A sink that writes (copies and releases) queued frames only when flushed, like a connection's writer.</summary>
    private sealed class FlushingSink : IFrameSink
    {
        private readonly Lock _lock = new();
        private readonly List<ReadOnlyMemory<byte>> _queued = [];

        public List<byte[]> Written { get; } = [];

        public int Queued
        {
            get
            {
                lock (_lock)
                {
                    return _queued.Count;
                }
            }
        }

        public int SentDirectly { get; private set; }

        public int Flushes { get; private set; }

        public long PendingBytes => 0;

        public bool IsLoopback => true;

        public string RemoteAddress => "test";

        public bool TrySend(ReadOnlyMemory<byte> frame)
        {
            SentDirectly++;
            return TryQueue(frame);
        }

        public bool TryQueue(ReadOnlyMemory<byte> frame)
        {
            lock (_lock)
            {
                _queued.Add(frame);
            }

            return true;
        }

        public void Flush()
        {
            lock (_lock)
            {
                Flushes++;
                foreach (var frame in _queued)
                {
                    Written.Add(frame.ToArray());
                    if (MemoryMarshal.TryGetMemoryManager(frame, out SharedFrame? shared))
                    {
                        shared.Release();
                    }
                }

                _queued.Clear();
            }
        }

        public Task WaitUntilPendingAtMostAsync(long bytes) => Task.CompletedTask;

        public void Close(ReadOnlyMemory<byte> finalFrame)
        {
        }
    }

    /// <summary>A router over a real store's group conversation, with sessions found through an in-memory locator.</summary>
    private sealed class FanOutHarness : IDisposable
    {
        private readonly string _directory = Path.Combine(Path.GetTempPath(), "wren-test-" + Guid.NewGuid().ToString("N"));
        private readonly WrenStore _store;
        private readonly BrokerCore _core;
        private readonly Locator _locator = new();
        private readonly ulong _conversation;

        public FanOutHarness()
        {
            _store = WrenStore.Open(new StoreOptions { DataDirectory = _directory, Durability = DurabilityMode.Async });
            _core = new BrokerCore(_store, _store, _store, _store, new BrokerLimits(), ProtocolLimits.Default, TimeProvider.System, NullLoggerFactory.Instance, _store);
            _conversation = _store.CreateGroupAsync(1, "fan-out", []).AsTask().GetAwaiter().GetResult().ConversationId;
            Router = new Router(1, 1 << 20, _store, _store, _locator, NullLogger.Instance);
        }

        public Router Router { get; }

        /// <summary>Adds a session of user 1 (the group's owner), live from seq 0.</summary>
        public void AddLiveSession(IFrameSink sink) => AddSession(sink).SetLive(_conversation, 0);

        /// <summary>Adds a session of user 1 that is not live for the conversation (its catch-up has not run).</summary>
        public Session AddSession(IFrameSink sink)
        {
            var session = _core.CreateSession(sink);
            _locator.Sessions = _locator.Sessions.Add(session);
            return session;
        }

        public LogEntry Entry(ulong seq) => new(_conversation, seq, 1, 1, 1, 1_700_000_000_000, "client-msg-" + seq, 1, new byte[] { 1, 2, 3 });

        public void Dispose()
        {
            Router.DisposeAsync().AsTask().GetAwaiter().GetResult();
            _core.DisposeAsync().AsTask().GetAwaiter().GetResult();
            _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
                // A leftover temp directory does not affect the result.
            }
        }

        private sealed class Locator : IDeviceLocator
        {
            public System.Collections.Immutable.ImmutableArray<Session> Sessions { get; set; } = [];

            public System.Collections.Immutable.ImmutableArray<Session> GetSessions(ulong userId) => userId == 1 ? Sessions : [];
        }
    }
}
