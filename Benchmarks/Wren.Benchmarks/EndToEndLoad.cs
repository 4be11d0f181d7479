using System.Buffers.Binary;
using System.Diagnostics;
using HdrHistogram;
using Wren.Client;
using Wren.Protocol.Messages;

namespace Wren.Benchmarks;

/// <summary>
/// One open-loop run against a connected <see cref="EndToEndScenario"/>: message g (0, 1, 2, …) is due at
/// start + g / rate and belongs to pair g mod P, so the total rate is fixed and evenly spread over the senders whatever
/// the broker does (one pacer thread starts every send when it is due, without waiting for earlier ones). Latencies
/// count from the due time (coordinated omission corrected): a pacer that runs late, or a send that waits behind
/// others, adds to the latency of the messages it delays.
/// </summary>
/// <remarks>
/// Each body starts with the pair index and the message's index within the pair (little-endian int32 each), which is
/// how a receiver finds the due time. Messages due in the warm-up are sent but not recorded; throughput counts the acks
/// and Deliver frames that arrive inside the measured window.
/// </remarks>
public sealed class EndToEndLoad
{
    private const long HighestMicros = 120_000_000;

    private readonly EndToEndScenario _scenario;
    private readonly EndToEndOptions _options;
    private readonly int _rate;
    private readonly double _ticksPerMessage;
    private readonly Sender[] _senders;
    private readonly LongConcurrentHistogram _ack = NewHistogram();
    private readonly LongConcurrentHistogram _deliver = NewHistogram();
    private readonly LongConcurrentHistogram _lag = NewHistogram();
    private long _start;
    private long _windowStart;
    private long _windowEnd;
    private long _acks;
    private long _sendErrors;
    private long _delivered;
    private long _acksInWindow;
    private long _framesInWindow;

    private EndToEndLoad(EndToEndScenario scenario, EndToEndOptions options, int rate)
    {
        _scenario = scenario;
        _options = options;
        _rate = rate;
        _ticksPerMessage = (double)Stopwatch.Frequency / rate;
        long total = (long)Math.Ceiling((options.WarmupSeconds + options.DurationSeconds) * rate);
        int pairs = scenario.Pairs.Count;
        _senders = [.. scenario.Pairs.Select(p => new Sender(p, (int)((total - p.Index + pairs - 1) / pairs), options.BodyBytes))];
    }

    private long Total => _senders.Sum(s => (long)s.Count);

    /// <summary>Runs the schedule, waits for what is outstanding (up to the drain time), and summarises.</summary>
    public static async Task<EndToEndResult> RunAsync(EndToEndScenario scenario, EndToEndOptions options, int rate) =>
        await new EndToEndLoad(scenario, options, rate).RunAsync().ConfigureAwait(false);

    private static LongConcurrentHistogram NewHistogram() => new(1, HighestMicros, 3);

    private async Task<EndToEndResult> RunAsync()
    {
        double loadAtStart = EndToEndResult.ReadLoadAverage();
        using var stopReceiving = new CancellationTokenSource();
        var receivers = _senders
            .SelectMany(s => s.Pair.Receivers.Select(c => ReceiveAsync(c, s, stopReceiving.Token)).Append(ReceiveAsync(s.Pair.SenderA1, null, stopReceiving.Token)))
            .ToList();

        // Start a little ahead so that the pacer thread and the receivers are running when the first message is due.
        _start = Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 10);
        _windowStart = _start + (long)(_options.WarmupSeconds * Stopwatch.Frequency);
        _windowEnd = _windowStart + (long)(_options.DurationSeconds * Stopwatch.Frequency);
        var window = EndToEndSample.MeasureWindowAsync(_scenario.Server.Store, _windowStart, _windowEnd);

        var paced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        new Thread(() =>
        {
            Pace();
            paced.SetResult();
        })
        { IsBackground = true, Name = "e2e-pacer" }.Start();
        await paced.Task.ConfigureAwait(false);

        var (before, after) = await window.ConfigureAwait(false);

        long drainDeadline = Stopwatch.GetTimestamp() + (long)(_options.DrainSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < drainDeadline
            && (Interlocked.Read(ref _acks) + Interlocked.Read(ref _sendErrors) < Total || Interlocked.Read(ref _delivered) < Interlocked.Read(ref _acks)))
        {
            await Task.Delay(10).ConfigureAwait(false);
        }

        var (unackedMeasured, undeliveredMeasured) = RecordUnfinished(Stopwatch.GetTimestamp());
        await stopReceiving.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(receivers).ConfigureAwait(false);

        var clients = _scenario.Pairs.SelectMany(p => new[] { p.SenderA1, p.A2, p.B1, p.B2 }).ToList();
        double seconds = (double)(after.Timestamp - before.Timestamp) / Stopwatch.Frequency;
        long measured = _senders.Sum(s => (long)s.Measured);
        return new EndToEndResult
        {
            Durability = _scenario.Server.Options.Durability,
            Pairs = _senders.Length,
            LoadAverage = (loadAtStart, EndToEndResult.ReadLoadAverage()),
            TargetRate = _rate,
            Seconds = seconds,
            MeasuredMessages = measured,
            AckRate = Interlocked.Read(ref _acksInWindow) / seconds,
            DeliverFrameRate = Interlocked.Read(ref _framesInWindow) / seconds,
            Ack = LatencySummary.From(_ack),
            Deliver = LatencySummary.From(_deliver),
            ScheduleLag = LatencySummary.From(_lag),
            SendErrors = Interlocked.Read(ref _sendErrors),
            UnackedAtEnd = unackedMeasured,
            UndeliveredAtEnd = undeliveredMeasured,
            Reconnects = clients.Sum(c => c.Reconnects),
            GapFills = clients.Sum(c => c.GapFills),
            BrokerWarnings = _scenario.Log.Warnings,
            BrokerErrors = _scenario.Log.Errors,
            CpuCores = (after.Cpu - before.Cpu).TotalSeconds / seconds,
            OtherCpuCores = Math.Max(0, ((after.MachineBusy - before.MachineBusy) - (after.Cpu - before.Cpu)).TotalSeconds / seconds),
            AllocatedPerMessage = (double)(after.AllocatedBytes - before.AllocatedBytes) / Math.Max(1, measured),
            GcCounts = (after.Gen0 - before.Gen0, after.Gen1 - before.Gen1, after.Gen2 - before.Gen2),
            GcPause = after.GcPause - before.GcPause,
            AppendsPerBatch = after.Batches == before.Batches ? 0 : (double)(after.BatchedAppends - before.BatchedAppends) / (after.Batches - before.Batches),
            BatchesPerSecond = (after.Batches - before.Batches) / seconds,
        };
    }

    private long Due(Sender sender, int k) => _start + (long)((((long)k * _senders.Length) + sender.Pair.Index) * _ticksPerMessage);

    private bool IsMeasured(long due) => due >= _windowStart && due < _windowEnd;

    private bool InWindow(long timestamp) => timestamp >= _windowStart && timestamp < _windowEnd;

    private static long Micros(long ticks) => Math.Clamp(ticks * 1_000_000 / Stopwatch.Frequency, 1, HighestMicros);

    /// <summary>
    /// The pacer: one dedicated thread walks the schedule in order and starts every send that is due. Between sends it
    /// sleeps 1 ms at a time (about 1.06 ms on Linux), so it starts a message at most about a millisecond late when the
    /// machine has a free core; a dedicated thread does not wait behind the thread pool's queue, which the broker and the
    /// receivers keep busy. SendAsync runs inline up to its first real wait (encoding, TLS, the socket write).
    /// </summary>
    private void Pace()
    {
        long total = Total;
        for (long g = 0; g < total; g++)
        {
            var sender = _senders[g % _senders.Length];
            int k = (int)(g / _senders.Length);
            long due = Due(sender, k);
            while (Stopwatch.GetTimestamp() < due)
            {
                Thread.Sleep(1);
            }

            if (IsMeasured(due))
            {
                sender.Measured++;
                _lag.RecordValue(Micros(Stopwatch.GetTimestamp() - due));
            }

            BinaryPrimitives.WriteInt32LittleEndian(sender.Body.AsSpan(4), k);
            _ = SendOneAsync(sender, k, due);
        }
    }

    private async Task SendOneAsync(Sender sender, int k, long due)
    {
        try
        {
            // SendAsync copies the body before it first yields, so the sender's buffer can be reused for the next message.
            await sender.Pair.SenderA1.SendAsync(sender.Pair.ConversationId, sender.Body).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WrenClientException or OperationCanceledException or IOException or InvalidOperationException)
        {
            Interlocked.Increment(ref _sendErrors);
            return;
        }

        long now = Stopwatch.GetTimestamp();
        Volatile.Write(ref sender.Acked[k], true);
        Interlocked.Increment(ref _acks);
        if (InWindow(now))
        {
            Interlocked.Increment(ref _acksInWindow);
        }

        if (IsMeasured(due))
        {
            _ack.RecordValue(Micros(now - due));
        }
    }

    /// <summary>Drains one device's events. <paramref name="measured"/> is null for the sending device's own copy.</summary>
    private async Task ReceiveAsync(WrenClient client, Sender? measured, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var message in client.Events.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                if (message is not Deliver deliver || deliver.Body.Length < 8)
                {
                    continue;
                }

                long now = Stopwatch.GetTimestamp();
                if (InWindow(now))
                {
                    Interlocked.Increment(ref _framesInWindow);
                }

                if (measured is null)
                {
                    continue;
                }

                int k = BinaryPrimitives.ReadInt32LittleEndian(deliver.Body.AsSpan(4));
                if (Interlocked.Increment(ref measured.Arrivals[k]) == measured.Pair.Receivers.Count)
                {
                    Interlocked.Increment(ref _delivered);
                    long due = Due(measured, k);
                    if (IsMeasured(due))
                    {
                        _deliver.RecordValue(Micros(now - due));
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
    }

    /// <summary>
    /// Measured messages still without an ack (or without all their deliveries) when the drain time ran out are
    /// recorded at the latency they had reached by then, a lower bound, so they cannot make a percentile look better.
    /// </summary>
    private (long Unacked, long Undelivered) RecordUnfinished(long now)
    {
        long unacked = 0;
        long undelivered = 0;
        foreach (var sender in _senders)
        {
            for (int k = 0; k < sender.Count; k++)
            {
                long due = Due(sender, k);
                if (!IsMeasured(due))
                {
                    continue;
                }

                if (!Volatile.Read(ref sender.Acked[k]))
                {
                    unacked++;
                    _ack.RecordValue(Micros(now - due));
                }

                if (Volatile.Read(ref sender.Arrivals[k]) < sender.Pair.Receivers.Count)
                {
                    undelivered++;
                    _deliver.RecordValue(Micros(now - due));
                }
            }
        }

        return (unacked, undelivered);
    }

    private sealed class Sender
    {
        public Sender(EndToEndPair pair, int count, int bodyBytes)
        {
            Pair = pair;
            Count = count;
            Acked = new bool[count];
            Arrivals = new int[count];
            Body = new byte[bodyBytes];
            Body.AsSpan(8).Fill((byte)'x');
            BinaryPrimitives.WriteInt32LittleEndian(Body, pair.Index);
        }

        public EndToEndPair Pair { get; }

        /// <summary>Messages this sender sends in the run (warm-up included).</summary>
        public int Count { get; }

        /// <summary>Messages due in the measured window (written by the pacer only).</summary>
        public int Measured { get; set; }

        public bool[] Acked { get; }

        /// <summary>Deliver frames received per message by the measured devices.</summary>
        public int[] Arrivals { get; }

        /// <summary>The body buffer, reused: pair index, message index, filler.</summary>
        public byte[] Body { get; }
    }
}
