using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Wren.Storage;

namespace Wren.Benchmarks;

/// <summary>
/// Durable appends (fsync per write) from concurrent writers: group commit against one synced write per message
/// (the baseline: the same store with <see cref="StoreOptions.MaxBatchCount"/> = 1). One operation = one acknowledged
/// append; the p99 wait of each case is printed at the end of its run (look for <c>STORAGE-P99</c>).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class StorageAppendBenchmarks
{
    private const int AppendsPerInvocation = 4096;
    private static readonly byte[] Body = new byte[200];

    private string _directory = "";
    private WrenStore _groupCommit = null!;
    private WrenStore _syncPerMessage = null!;
    private ulong[] _conversations = [];
    private long[] _waits = [];
    private readonly List<long> _allWaits = [];
    private int _next;
    private int _sequence;

    /// <summary>Concurrent writers, each awaiting its previous append before the next.</summary>
    [Params(1, 8, 64)]
    public int Writers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "wren-bench-append-" + Guid.NewGuid().ToString("N"));
        _groupCommit = WrenStore.Open(new StoreOptions { DataDirectory = Path.Combine(_directory, "group") });
        _syncPerMessage = WrenStore.Open(new StoreOptions { DataDirectory = Path.Combine(_directory, "single"), MaxBatchCount = 1 });
        _conversations = new ulong[Writers];
        for (var i = 0; i < Writers; i++)
        {
            _conversations[i] = _groupCommit.CreateGroupAsync(1, "bench", [2]).AsTask().GetAwaiter().GetResult().ConversationId;
            _syncPerMessage.CreateGroupAsync(1, "bench", [2]).AsTask().GetAwaiter().GetResult();
        }

        _waits = new long[AppendsPerInvocation];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        if (_allWaits.Count > 0)
        {
            _allWaits.Sort();
            var p50 = _allWaits[_allWaits.Count / 2] * 1000.0 / Stopwatch.Frequency;
            var p99 = _allWaits[(int)(_allWaits.Count * 0.99)] * 1000.0 / Stopwatch.Frequency;
            Console.WriteLine($"STORAGE-P99 writers={Writers} p50={p50:F3}ms p99={p99:F3}ms samples={_allWaits.Count}");
        }

        _groupCommit.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _syncPerMessage.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = AppendsPerInvocation)]
    public Task SyncPerMessage() => RunAsync(_syncPerMessage);

    [Benchmark(OperationsPerInvoke = AppendsPerInvocation)]
    public Task GroupCommit() => RunAsync(_groupCommit);

    private async Task RunAsync(WrenStore store)
    {
        _next = 0;
        var writers = new Task[Writers];
        for (var w = 0; w < Writers; w++)
        {
            var conversation = _conversations[w];
            writers[w] = Task.Run(async () =>
            {
                while (true)
                {
                    var slot = Interlocked.Increment(ref _next) - 1;
                    if (slot >= AppendsPerInvocation)
                    {
                        return;
                    }

                    var id = "m" + Interlocked.Increment(ref _sequence);
                    var started = Stopwatch.GetTimestamp();
                    var result = await store.AppendAsync(new AppendRequest(conversation, 1, 1, id, 1, Body)).ConfigureAwait(false);
                    _waits[slot] = Stopwatch.GetTimestamp() - started;
                    if (result.Status != AppendStatus.Appended)
                    {
                        throw new InvalidOperationException(result.Status.ToString());
                    }
                }
            });
        }

        await Task.WhenAll(writers).ConfigureAwait(false);
        _allWaits.AddRange(_waits);
    }
}

/// <summary>Catch-up reads: <see cref="IMessageLog.ReadRange"/> pages of 1,000 entries with 200-byte bodies. One operation = one entry.</summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class StorageReadBenchmarks
{
    private const int Entries = 100_000;
    private const int Page = 1000;

    private string _directory = "";
    private WrenStore _store = null!;
    private ulong _conversation;
    private ulong _from = 1;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "wren-bench-read-" + Guid.NewGuid().ToString("N"));
        _store = WrenStore.Open(new StoreOptions { DataDirectory = _directory, Durability = DurabilityMode.Async });
        _conversation = _store.CreateGroupAsync(1, "bench", [2]).AsTask().GetAwaiter().GetResult().ConversationId;
        var body = new byte[200];
        for (var chunk = 0; chunk < Entries; chunk += 1000)
        {
            var appends = new Task[1000];
            for (var i = 0; i < appends.Length; i++)
            {
                appends[i] = _store.AppendAsync(new AppendRequest(_conversation, 1, 1, "m" + (chunk + i), 1, body)).AsTask();
            }

            Task.WaitAll(appends);
        }

        _store.FlushMemtables();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = Page)]
    public int ReadRange()
    {
        var entries = _store.ReadRange(_conversation, _from, Page);
        _from = _from + Page > Entries ? 1 : _from + Page;
        return entries.Count;
    }
}
