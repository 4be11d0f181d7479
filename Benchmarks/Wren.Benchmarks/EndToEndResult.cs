using System.Globalization;
using System.Text;
using HdrHistogram;
using Wren.Storage;

namespace Wren.Benchmarks;

/// <summary>Percentiles of one latency histogram, in milliseconds.</summary>
public readonly record struct LatencySummary(long Count, double P50, double P90, double P99, double P999, double Max)
{
    public static LatencySummary From(HistogramBase histogram) => histogram.TotalCount == 0
        ? default
        : new LatencySummary(
            histogram.TotalCount,
            Ms(histogram.GetValueAtPercentile(50)),
            Ms(histogram.GetValueAtPercentile(90)),
            Ms(histogram.GetValueAtPercentile(99)),
            Ms(histogram.GetValueAtPercentile(99.9)),
            Ms(histogram.GetMaxValue()));

    public override string ToString() => $"{F(P50)} / {F(P90)} / {F(P99)} / {F(P999)} / {F(Max)}";

    /// <summary>The five values as markdown table cells.</summary>
    public string Cells() => $"{F(P50)} | {F(P90)} | {F(P99)} | {F(P999)} | {F(Max)}";

    /// <summary>Milliseconds with three significant digits.</summary>
    public static string F(double ms) => ms switch
    {
        < 10 => ms.ToString("0.00", CultureInfo.InvariantCulture),
        < 100 => ms.ToString("0.0", CultureInfo.InvariantCulture),
        _ => ms.ToString("#,0", CultureInfo.InvariantCulture),
    };

    private static double Ms(long micros) => micros / 1000.0;
}

/// <summary>What one run measured in its window.</summary>
public sealed record EndToEndResult
{
    public DurabilityMode Durability { get; init; }

    public int Pairs { get; init; }

    /// <summary>The machine's 1-minute load average at the start and at the end of the run (other work on the machine shows here).</summary>
    public (double Start, double End) LoadAverage { get; init; }

    public int TargetRate { get; init; }

    /// <summary>Length of the measured window (wall time).</summary>
    public double Seconds { get; init; }

    /// <summary>Messages due in the measured window.</summary>
    public long MeasuredMessages { get; init; }

    /// <summary>SendAcks received per second in the window.</summary>
    public double AckRate { get; init; }

    /// <summary>Deliver frames received per second in the window, by all four devices of each pair.</summary>
    public double DeliverFrameRate { get; init; }

    /// <summary>Due time to SendAck.</summary>
    public LatencySummary Ack { get; init; }

    /// <summary>Due time to the last of the three Deliver frames (the recipient's two devices, the sender's other one).</summary>
    public LatencySummary Deliver { get; init; }

    /// <summary>Due time to the moment the driver called SendAsync: the driver's own lateness, part of both latencies.</summary>
    public LatencySummary ScheduleLag { get; init; }

    public long SendErrors { get; init; }

    public long UnackedAtEnd { get; init; }

    public long UndeliveredAtEnd { get; init; }

    public int Reconnects { get; init; }

    public int GapFills { get; init; }

    public int BrokerWarnings { get; init; }

    public int BrokerErrors { get; init; }

    /// <summary>Process CPU time over wall time in the window (2.0 = both cores of the machine busy).</summary>
    public double CpuCores { get; init; }

    /// <summary>CPU used by other processes on the machine in the window, in cores (machine busy time minus this process's).</summary>
    public double OtherCpuCores { get; init; }

    /// <summary>Managed bytes allocated in the window (client and broker) per message.</summary>
    public double AllocatedPerMessage { get; init; }

    public (int Gen0, int Gen1, int Gen2) GcCounts { get; init; }

    /// <summary>Time the GC paused the process in the window.</summary>
    public TimeSpan GcPause { get; init; }

    /// <summary>Mean appends per storage write (one fsync each in Sync mode).</summary>
    public double AppendsPerBatch { get; init; }

    public double BatchesPerSecond { get; init; }

    /// <summary>What went wrong: failed sends, reconnects, errors the broker logged.</summary>
    public long Errors => SendErrors + Reconnects + BrokerErrors;

    /// <summary>Measured messages still without their ack or all their deliveries when the drain time ran out (a backlog).</summary>
    public long Unfinished => UnackedAtEnd + UndeliveredAtEnd;

    /// <summary>
    /// The sweep's criterion: ack p99 under the target, acks/s at least the given share of the target, no errors and
    /// nothing unfinished.
    /// </summary>
    public bool Passes(EndToEndOptions options) =>
        Ack.P99 < options.P99TargetMs && AckRate >= options.MinAchieved * TargetRate && Errors == 0 && Unfinished == 0;

    /// <summary>The 1-minute load average (Linux), or NaN.</summary>
    public static double ReadLoadAverage() =>
        File.Exists("/proc/loadavg")
            && double.TryParse(File.ReadAllText("/proc/loadavg").Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double load)
            ? load
            : double.NaN;

    public string Describe()
    {
        var text = new StringBuilder();
        text.AppendLine($"  {Durability} durability, {Pairs} pairs, target {TargetRate:N0} msg/s, window {Seconds:F1} s, {MeasuredMessages:N0} messages measured");
        text.AppendLine($"  throughput      acks {AckRate:N0}/s ({AckRate / TargetRate:P1} of target), Deliver frames {DeliverFrameRate:N0}/s (4 devices)");
        text.AppendLine("  latency ms      p50 / p90 / p99 / p99.9 / max");
        text.AppendLine($"    ack           {Ack}");
        text.AppendLine($"    deliver (3/3) {Deliver}");
        text.AppendLine($"    driver lag    {ScheduleLag}");
        text.AppendLine($"  errors          {Errors} (send errors {SendErrors}, reconnects {Reconnects}, broker errors {BrokerErrors}); "
            + $"gap fills {GapFills}, broker warnings {BrokerWarnings}");
        text.AppendLine($"  unfinished      {Unfinished} after the drain (unacked {UnackedAtEnd}, not on all 3 devices {UndeliveredAtEnd})");
        text.AppendLine($"  machine load    other processes used {OtherCpuCores:F2} cores; 1-min load average {LoadAverage.Start:F2} at start, {LoadAverage.End:F2} at end");
        text.AppendLine($"  resources       CPU {CpuCores:F2} cores, {AllocatedPerMessage:N0} B allocated/msg, GCs {GcCounts.Gen0}/{GcCounts.Gen1}/{GcCounts.Gen2} "
            + $"(paused {GcPause.TotalMilliseconds:F0} ms), "
            + $"{BatchesPerSecond:N0} storage writes/s with {AppendsPerBatch:F1} appends each");
        return text.ToString();
    }

    /// <summary>Two markdown tables (throughput and resources; latencies) with one row per result.</summary>
    public static string Markdown(IEnumerable<EndToEndResult> results, EndToEndOptions options)
    {
        var list = results.ToList();
        var text = new StringBuilder();
        text.AppendLine("| durability | target msg/s | acks/s | Deliver frames/s | errors | unfinished | CPU (cores) | alloc/msg | appends/write | other CPU | pass |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (var r in list)
        {
            text.AppendLine($"| {r.Durability} | {r.TargetRate:N0} | {r.AckRate:N0} | {r.DeliverFrameRate:N0} | {r.Errors} | {r.Unfinished} | {r.CpuCores:F2} | "
                + $"{r.AllocatedPerMessage / 1024:N1} KiB | {r.AppendsPerBatch:F1} | {r.OtherCpuCores:F2} | {(r.Passes(options) ? "yes" : "no")} |");
        }

        text.AppendLine();
        text.AppendLine("| durability | target msg/s | ack p50 | p90 | p99 | p99.9 | max | deliver p50 | p90 | p99 | p99.9 | max |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in list)
        {
            text.AppendLine($"| {r.Durability} | {r.TargetRate:N0} | {r.Ack.Cells()} | {r.Deliver.Cells()} |");
        }

        return text.ToString();
    }
}
