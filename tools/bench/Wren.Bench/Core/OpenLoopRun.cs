using System.Buffers.Binary;
using System.Diagnostics;

namespace Wren.Bench.Core;

/// <summary>Parameters of one open-loop window.</summary>
public sealed record OpenLoopOptions
{
    /// <summary>Seconds sent before the measured window (sent, not recorded).</summary>
    public double WarmupSeconds { get; init; } = 2;

    /// <summary>Seconds of the measured window.</summary>
    public double DurationSeconds { get; init; } = 10;

    /// <summary>Seconds to wait for outstanding acks and deliveries after the last message is due.</summary>
    public double DrainSeconds { get; init; } = 10;

    /// <summary>
    /// Most seconds to wait, after the drain and outside the measurement, for what is still outstanding (an overloaded
    /// window leaves a backlog in the clients and the server), so that the next window starts on an idle server.
    /// </summary>
    public double SettleSeconds { get; init; } = 60;

    /// <summary>Message body size in bytes (at least 12: the message index and window id are written at the start).</summary>
    public int BodyBytes { get; init; } = 200;

    /// <summary>
    /// True: every delivery's latency is recorded (fan-out). False: one latency per message, when its last counted
    /// delivery arrives (1:1 chat to several devices).
    /// </summary>
    public bool LatencyPerDelivery { get; init; }

    /// <summary>Server process id for its CPU; 0 when unknown.</summary>
    public int ServerPid { get; init; }

    /// <summary>Print a progress line every second on stderr.</summary>
    public bool Progress { get; init; } = true;
}

/// <summary>
/// One open-loop window against an <see cref="IMessagingSession"/>: message g is due at start + g / rate (see
/// <see cref="OpenLoopSchedule"/>) and one pacer thread starts each send when it is due (within
/// <see cref="PacerClock.Quantum"/> and the wake-up's jitter) without waiting for earlier ones; ack and delivery
/// latencies count from the due time. Each body starts with g (int64, little-endian), which is how a receiver finds
/// the due time, and the window's id (int32), so late deliveries of an earlier window are ignored.
/// </summary>
/// <remarks>
/// Messages due in the warm-up are sent but not recorded. Throughput counts the acks (and deliveries) that arrive
/// inside the measured window. Measured messages still unacknowledged or undelivered when the drain time ends are
/// recorded at the latency they had reached (a lower bound) and counted as unfinished; the run then waits (up to
/// <see cref="OpenLoopOptions.SettleSeconds"/>, not measured) for that backlog to clear before it returns.
/// </remarks>
public sealed class OpenLoopRun : IDisposable
{
    private readonly IMessagingSession _session;
    private readonly OpenLoopOptions _options;
    private readonly OpenLoopSchedule _schedule;
    private readonly long _total;
    private readonly int[] _arrivals;
    private readonly byte[] _acked;
    private readonly LatencyRecorder _ack = new();
    private readonly LatencyRecorder _deliver = new();
    private readonly long _windowStart;
    private readonly long _windowEnd;
    private static int s_runs;
    private readonly int _runId = Interlocked.Increment(ref s_runs);
    private long _sent;
    private long _acks;
    private long _errors;
    private long _deliveries;
    private long _complete;
    private long _acksInWindow;
    private long _deliveriesInWindow;

    private OpenLoopRun(IMessagingSession session, double rate, OpenLoopOptions options)
    {
        _session = session;
        _options = options;
        long start = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 5);
        _schedule = new OpenLoopSchedule(start, rate, Stopwatch.Frequency);
        _total = _schedule.CountWithin(options.WarmupSeconds + options.DurationSeconds);
        _arrivals = new int[_total];
        _acked = new byte[_total];
        _windowStart = start + (long)(options.WarmupSeconds * Stopwatch.Frequency);
        _windowEnd = _windowStart + (long)(options.DurationSeconds * Stopwatch.Frequency);
    }

    /// <summary>Runs one window at <paramref name="rate"/> messages per second and summarises it.</summary>
    public static Task<BenchResult> RunAsync(IMessagingSession session, double rate, OpenLoopOptions options)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(options);
        if (options.BodyBytes < 12)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "The body must hold at least 12 bytes.");
        }

        return RunOwnedAsync(new OpenLoopRun(session, rate, options));
    }

    private static async Task<BenchResult> RunOwnedAsync(OpenLoopRun run)
    {
        using (run)
        {
            return await run.RunAsync();
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _ack.Dispose();
        _deliver.Dispose();
    }

    /// <summary>Waits up to <paramref name="seconds"/> until every message sent is acknowledged (or failed) and delivered.</summary>
    private async Task WaitForOutstandingAsync(double seconds)
    {
        long end = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < end
            && (Interlocked.Read(ref _acks) + Interlocked.Read(ref _errors) < _total || Interlocked.Read(ref _complete) < Interlocked.Read(ref _acks)))
        {
            await Task.Delay(10);
        }
    }

    private bool IsMeasured(long g) => _schedule.Due(g) >= _windowStart && _schedule.Due(g) < _windowEnd;

    private bool InWindow(long timestamp) => timestamp >= _windowStart && timestamp < _windowEnd;

    private async Task<BenchResult> RunAsync()
    {
        using var stop = new CancellationTokenSource();
        _session.StartReceiving(OnDelivery, stop.Token);
        var cpu = SampleServerAsync();
        using var progress = _options.Progress ? new Timer(_ => PrintProgress(), null, 1000, 1000) : null;

        var paced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        new Thread(() =>
        {
            Pace();
            paced.SetResult();
        })
        { IsBackground = true, Name = "bench-pacer" }.Start();
        await paced.Task;
        var (before, after) = await cpu;

        await WaitForOutstandingAsync(_options.DrainSeconds);
        long unfinished = RecordUnfinished(Stopwatch.GetTimestamp());
        if (unfinished > 0)
        {
            // Measured: now only clear the backlog, so that it does not weigh on the next window.
            await WaitForOutstandingAsync(_options.SettleSeconds);
        }
        await stop.CancelAsync();
        if (_options.Progress)
        {
            Console.Error.WriteLine();
        }

        double seconds = _options.DurationSeconds;
        var ack = _ack.Merge();
        return new BenchResult
        {
            TargetRate = _schedule.Rate,
            Seconds = seconds,
            Throughput = Interlocked.Read(ref _acksInWindow) / seconds,
            DeliveriesPerSecond = Interlocked.Read(ref _deliveriesInWindow) / seconds,
            Ack = LatencySummary.From(ack),
            AckCurve = [.. LatencySummary.Curve(ack).Select(p => new[] { p.Percentile, p.Ms })],
            Deliver = LatencySummary.From(_deliver.Merge()),
            Errors = Interlocked.Read(ref _errors),
            Unfinished = unfinished,
            ServerCpuCores = ProcessStats.Cores(before.Server, after.Server, seconds),
            GeneratorCpuCores = ProcessStats.Cores(before.Generator, after.Generator, seconds),
            MachineCpuCores = CpuSample.MachineCores(before, after, seconds),
            Connections = _session.Connections,
            Durability = _session.Durability,
        };
    }

    private async Task<(CpuSample Before, CpuSample After)> SampleServerAsync()
    {
        await DelayUntilAsync(_windowStart);
        var before = CpuSample.Take(_options.ServerPid);
        await DelayUntilAsync(_windowEnd);
        return (before, CpuSample.Take(_options.ServerPid));
    }

    private static async Task DelayUntilAsync(long timestamp)
    {
        long wait = timestamp - Stopwatch.GetTimestamp();
        if (wait > 0)
        {
            await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency));
        }
    }

    /// <summary>
    /// The pacer: one dedicated thread walks the schedule in order and starts every send that is due, sleeping 1 ms at a
    /// time in between; a dedicated thread does not queue behind the thread pool, which the receivers keep busy.
    /// </summary>
    private void Pace()
    {
        int senders = _session.Senders;
        PacerClock.UsePreciseTimers();
        for (long g = 0; g < _total; g++)
        {
            PacerClock.WaitUntil(_schedule.Due(g));

            var body = new byte[_options.BodyBytes];
            BinaryPrimitives.WriteInt64LittleEndian(body, g);
            BinaryPrimitives.WriteInt32LittleEndian(body.AsSpan(8), _runId);
            body.AsSpan(12).Fill((byte)'x');
            Interlocked.Increment(ref _sent);
            _ = SendOneAsync(OpenLoopSchedule.SenderOf(g, senders), g, body);
        }
    }

    private async Task SendOneAsync(int sender, long g, byte[] body)
    {
        try
        {
            await _session.SendAsync(sender, body);
        }
#pragma warning disable CA1031 // Any failure of a peer's client library counts as an error of this message.
        catch (Exception)
#pragma warning restore CA1031
        {
            Interlocked.Increment(ref _errors);
            return;
        }

        long now = Stopwatch.GetTimestamp();
        Volatile.Write(ref _acked[g], 1);
        Interlocked.Increment(ref _acks);
        if (InWindow(now))
        {
            Interlocked.Increment(ref _acksInWindow);
        }

        if (IsMeasured(g))
        {
            _ack.Record(_schedule.LatencyMicros(_schedule.Due(g), now, LatencyRecorder.HighestMicros));
        }
    }

    private void OnDelivery(ReadOnlySpan<byte> body)
    {
        if (body.Length < 12 || BinaryPrimitives.ReadInt32LittleEndian(body[8..]) != _runId)
        {
            // Too short, or a late delivery of an earlier window on the same connections.
            return;
        }

        long g = BinaryPrimitives.ReadInt64LittleEndian(body);
        if (g < 0 || g >= _total)
        {
            return;
        }

        long now = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _deliveries);
        if (InWindow(now))
        {
            Interlocked.Increment(ref _deliveriesInWindow);
        }

        int arrived = Interlocked.Increment(ref _arrivals[g]);
        bool last = arrived == _session.ReceiversPerMessage;
        if (last)
        {
            Interlocked.Increment(ref _complete);
        }

        if (IsMeasured(g) && (_options.LatencyPerDelivery || last))
        {
            _deliver.Record(_schedule.LatencyMicros(_schedule.Due(g), now, LatencyRecorder.HighestMicros));
        }
    }

    private long RecordUnfinished(long now)
    {
        long unfinished = 0;
        int expected = _session.ReceiversPerMessage;
        for (long g = 0; g < _total; g++)
        {
            if (!IsMeasured(g))
            {
                continue;
            }

            long latency = _schedule.LatencyMicros(_schedule.Due(g), now, LatencyRecorder.HighestMicros);
            bool acked = Volatile.Read(ref _acked[g]) != 0;
            int arrived = Volatile.Read(ref _arrivals[g]);
            if (!acked)
            {
                _ack.Record(latency);
            }

            if (arrived < expected)
            {
                if (_options.LatencyPerDelivery)
                {
                    for (int i = arrived; i < expected; i++)
                    {
                        _deliver.Record(latency);
                    }
                }
                else
                {
                    _deliver.Record(latency);
                }
            }

            if (!acked || arrived < expected)
            {
                unfinished++;
            }
        }

        return unfinished;
    }

    private void PrintProgress()
    {
        long now = Stopwatch.GetTimestamp();
        double t = (double)(now - _schedule.StartTicks) / Stopwatch.Frequency;
        string phase = now < _windowStart ? "warm-up" : now < _windowEnd ? "measuring" : "draining";
        Console.Error.Write(
            $"\r  {phase,-9} t={t,5:0.0}s sent {Interlocked.Read(ref _sent):N0} acked {Interlocked.Read(ref _acks):N0} delivered {Interlocked.Read(ref _deliveries):N0} errors {Interlocked.Read(ref _errors):N0}   ");
    }
}

/// <summary>CPU counters of the server, this generator and the whole machine at one moment.</summary>
public readonly record struct CpuSample(ProcessStats? Server, ProcessStats? Generator, TimeSpan? Machine)
{
    /// <summary>Samples now; <paramref name="serverPid"/> 0 means no server sample.</summary>
    public static CpuSample Take(int serverPid) => new(
        serverPid > 0 ? ProcessStats.Read(serverPid) : null,
        ProcessStats.Read(Environment.ProcessId),
        ProcessStats.ReadMachineBusy());

    /// <summary>Whole-machine busy cores between two samples.</summary>
    public static double MachineCores(CpuSample before, CpuSample after, double seconds) =>
        before.Machine is { } b && after.Machine is { } a && seconds > 0 ? (a - b).TotalSeconds / seconds : double.NaN;
}
