using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Wren.Bench.Core;

/// <summary>The outcome of one measured window (one target, one workload, one rate).</summary>
public sealed record BenchResult
{
    /// <summary>Server under test: wren, nats, jetstream, redis, mosquitto.</summary>
    public string Target { get; init; } = "";

    /// <summary>Workload: W1 … W5 (with a suffix for variants, e.g. W2-10k).</summary>
    public string Workload { get; init; } = "";

    /// <summary>What "acknowledged" means for this server in this run (its durability setting).</summary>
    public string Durability { get; init; } = "";

    /// <summary>Offered rate in messages per second (0 for workloads that are not rate-driven).</summary>
    public double TargetRate { get; init; }

    /// <summary>Length of the measured window in seconds.</summary>
    public double Seconds { get; init; }

    /// <summary>The workload's headline rate: acks/s (W1, W2), replayed messages/s (W3), logins/s (W5).</summary>
    public double Throughput { get; init; }

    /// <summary>Deliveries counted per second in the window (every receiving connection counts).</summary>
    public double DeliveriesPerSecond { get; init; }

    /// <summary>Due time to acknowledgement (W1, W2), connect to authenticated (W5).</summary>
    public LatencySummary Ack { get; init; } = new();

    /// <summary>Due time to delivery (W1: the last of the receiving devices; W2: each delivery).</summary>
    public LatencySummary Deliver { get; init; } = new();

    /// <summary>Points (percentile, ms) of the ack latency curve, for the plot.</summary>
    public List<double[]>? AckCurve { get; init; }

    /// <summary>Failed operations.</summary>
    public long Errors { get; init; }

    /// <summary>Measured messages still unacknowledged or undelivered when the drain time ran out.</summary>
    public long Unfinished { get; init; }

    /// <summary>Reconnects the workload's clients made during the window (warm-up, window and drain).</summary>
    public long Reconnects { get; init; }

    /// <summary>Server process CPU over the window (1.0 = one core busy); NaN when unknown.</summary>
    public double ServerCpuCores { get; init; } = double.NaN;

    /// <summary>This generator process's CPU over the window; NaN when unknown.</summary>
    public double GeneratorCpuCores { get; init; } = double.NaN;

    /// <summary>
    /// The whole machine's busy cores over the window (server, generator and everything else running); NaN when
    /// unknown. Well below the core count means the run had the machine; near it means the numbers are CPU-starved.
    /// </summary>
    public double MachineCpuCores { get; init; } = double.NaN;

    /// <summary>Connections the workload held open.</summary>
    public int Connections { get; init; }

    /// <summary>W4: server resident memory growth per connection, in bytes.</summary>
    public double? BytesPerConnection { get; init; }

    /// <summary>Whether the window met the pass criteria (see <see cref="PassCriteria"/>).</summary>
    public bool Passed { get; init; }

    /// <summary>Free text shown next to the numbers (e.g. a durability caveat).</summary>
    public string? Note { get; init; }

    /// <summary>The workload parameters used.</summary>
    public Dictionary<string, string> Parameters { get; init; } = [];
}

/// <summary>When a rate-driven window counts as sustained.</summary>
/// <param name="P99BoundMs">Ack p99 and delivery p99 must both stay below this (default 50 ms).</param>
/// <param name="MinThroughputFraction">Acks per second must reach this share of the offered rate.</param>
public sealed record PassCriteria(double P99BoundMs = 50, double MinThroughputFraction = 0.95)
{
    /// <summary>
    /// True when the window has no errors, nothing unfinished, kept up with the rate, and both its ack p99 and its
    /// delivery p99 (when deliveries are measured) stayed under the bound: in a fan-out the deliveries are the point.
    /// </summary>
    public bool Passes(BenchResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Errors == 0 && result.Unfinished == 0
            && result.Throughput >= MinThroughputFraction * result.TargetRate
            && result.Ack.P99 < P99BoundMs
            && result.Deliver.P99 < P99BoundMs;
    }
}

/// <summary>A sweep's answer: the highest rate that passed, and every window it ran.</summary>
public sealed record SweepOutcome
{
    /// <summary>Server under test.</summary>
    public string Target { get; init; } = "";

    /// <summary>Workload.</summary>
    public string Workload { get; init; } = "";

    /// <summary>Highest passing rate (0 when none passed).</summary>
    public int MaxRate { get; init; }

    /// <summary>The p99 bound used.</summary>
    public double P99BoundMs { get; init; }
}

/// <summary>Everything one invocation measured: written as JSON and as markdown tables.</summary>
public sealed record BenchReport
{
    /// <summary>UTC start time.</summary>
    public DateTime Started { get; init; } = DateTime.UtcNow;

    /// <summary>Machine description (cores, CPU, OS, runtime, load).</summary>
    public string Machine { get; init; } = "";

    /// <summary>The command line that produced the report.</summary>
    public string Command { get; init; } = "";

    /// <summary>Every window measured, in order.</summary>
    public List<BenchResult> Results { get; init; } = [];

    /// <summary>Sweep answers.</summary>
    public List<SweepOutcome> Sweeps { get; init; } = [];

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The report as indented camel-case JSON (NaN written as "NaN").</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads a report written by <see cref="ToJson"/>.</summary>
    public static BenchReport FromJson(string json) =>
        JsonSerializer.Deserialize<BenchReport>(json, Json) ?? throw new FormatException("Empty bench report.");

    /// <summary>
    /// One markdown table of every window: throughput, latency percentiles, errors, CPU (durability is listed per
    /// server beside the table, being the same for every window of a server).
    /// </summary>
    public string ToMarkdownTable()
    {
        var sb = new StringBuilder();
        sb.AppendLine("| workload | server | offered/s | throughput/s | deliveries/s | ack p50 | p90 | p99 | p99.9 | max | deliver p50 | p99 | p99.9 | errors | unfinished | server CPU | generator CPU | machine CPU | conns | bytes/conn | pass |");
        sb.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (var r in Results)
        {
            sb.Append(CultureInfo.InvariantCulture, $"| {r.Workload} | {r.Target} | {Rate(r.TargetRate)} | {Rate(r.Throughput)} | {Rate(r.DeliveriesPerSecond)} ");
            sb.Append(CultureInfo.InvariantCulture, $"| {Ms(r.Ack.P50)} | {Ms(r.Ack.P90)} | {Ms(r.Ack.P99)} | {Ms(r.Ack.P999)} | {Ms(r.Ack.Max)} ");
            sb.Append(CultureInfo.InvariantCulture, $"| {Ms(r.Deliver.P50)} | {Ms(r.Deliver.P99)} | {Ms(r.Deliver.P999)} ");
            sb.AppendLine(CultureInfo.InvariantCulture, $"| {r.Errors} | {r.Unfinished} | {Cores(r.ServerCpuCores)} | {Cores(r.GeneratorCpuCores)} | {Cores(r.MachineCpuCores)} | {r.Connections:N0} | {(r.BytesPerConnection is { } b ? b.ToString("N0", CultureInfo.InvariantCulture) : "-")} | {(r.Passed ? "yes" : "no")} |");
        }

        return sb.ToString();
    }

    /// <summary>A rate with thousands separators, or "-" for 0.</summary>
    public static string Rate(double value) => value <= 0 || double.IsNaN(value) ? "-" : value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>Milliseconds with three significant digits, or "-" for an empty summary.</summary>
    public static string Ms(double value) => value <= 0 ? "-" : value.ToString(value >= 100 ? "N0" : "G3", CultureInfo.InvariantCulture);

    /// <summary>Cores with two decimals, or "?" when unknown.</summary>
    public static string Cores(double value) => double.IsNaN(value) ? "?" : value.ToString("0.00", CultureInfo.InvariantCulture);
}
