using System.Diagnostics;
using System.Globalization;
using Wren.Bench.Core;

namespace Wren.Bench.Workloads;

/// <summary>What every target's W3 (catch-up) shares: filling the store in batches and reporting the replay.</summary>
internal static class CatchUp
{
    private const int Batch = 256;

    /// <summary>Starts <paramref name="count"/> appends, awaiting them in batches of 256.</summary>
    public static async Task FillAsync(int count, Func<Task> append)
    {
        var pending = new List<Task>(Batch);
        for (int k = 0; k < count; k++)
        {
            pending.Add(append());
            if (pending.Count == Batch)
            {
                await Task.WhenAll(pending);
                pending.Clear();
            }
        }

        await Task.WhenAll(pending);
    }

    /// <summary>
    /// Adds the W3 result of a run of <see cref="BenchSettings.Replays"/> replays, reporting the one
    /// <see cref="ReplayChoice.ReportedIndex"/> picks, and prints its note (with when its first message arrived, where
    /// the target measured it).
    /// </summary>
    public static void Report(
        BenchSettings s, BenchReport report, string target, string durability, IReadOnlyList<Replay> replays,
        Stopwatch fill, long expected, int conversations)
    {
        var reported = Reported(replays);
        double seconds = reported.Seconds;
        string first = reported.FirstMs is { } firstMs ? $" (first after {firstMs:0} ms)" : "";
        var result = new BenchResult
        {
            Target = target,
            Workload = s.Label ?? "W3",
            Durability = durability,
            Seconds = seconds,
            Throughput = reported.Rate,
            DeliveriesPerSecond = reported.Rate,
            Unfinished = replays.Sum(r => expected - r.Received),
            ServerCpuCores = ProcessStats.Cores(reported.Before.Server, reported.After.Server, seconds),
            GeneratorCpuCores = ProcessStats.Cores(reported.Before.Generator, reported.After.Generator, seconds),
            MachineCpuCores = CpuSample.MachineCores(reported.Before, reported.After, seconds),
            Connections = 1,
            Passed = replays.All(r => r.Received == expected),
            Note = $"{reported.Received:N0} messages replayed in {seconds:0.00} s{first}{Describe(replays, reported)}; "
                + $"store filled at {expected / fill.Elapsed.TotalSeconds:N0} msg/s",
            Parameters = new() { ["messages"] = Inv(expected), ["conversations"] = Inv(conversations), ["body"] = Inv(s.Window.BodyBytes) },
        };
        if (s.Replays > 1)
        {
            result.Parameters["replays"] = Inv(s.Replays);
        }

        report.Results.Add(result);
        Console.Error.WriteLine($"W3 {target}: {result.Note}: {result.Throughput:N0} msg/s");
    }

    private static Replay Reported(IReadOnlyList<Replay> replays) => replays[ReplayChoice.ReportedIndex([.. replays.Select(r => r.Rate)])];

    private static string Describe(IReadOnlyList<Replay> replays, Replay reported)
    {
        if (replays.Count == 1)
        {
            return "";
        }

        string all = string.Join(", ", replays.Select(r => $"{r.Rate:N0}" + (ReferenceEquals(r, reported) ? "*" : "")));
        string which = replays.Count == 2 ? "the second" : $"the median of replays 2-{replays.Count}";
        return $"; {which} of {replays.Count} replays (msg/s: {all}; * reported)";
    }

    private static string Inv(double v) => v.ToString(CultureInfo.InvariantCulture);
}

/// <summary>One W3 replay: messages read, its duration, CPU samples around it, and when the first message arrived (if measured).</summary>
internal sealed record Replay(long Received, double Seconds, CpuSample Before, CpuSample After, double? FirstMs)
{
    /// <summary>Messages per second.</summary>
    public double Rate => Seconds > 0 ? Received / Seconds : 0;

    /// <summary>
    /// Records a replay timed by <paramref name="clock"/>, just stopped (the CPU sample after it is taken now), that
    /// began at <paramref name="before"/>.
    /// </summary>
    public static Replay Take(int pid, long received, Stopwatch clock, CpuSample before, int index, double? firstMs = null)
    {
        var replay = new Replay(received, clock.Elapsed.TotalSeconds, before, CpuSample.Take(pid), firstMs);
        Console.Error.WriteLine($"  replay {index}: {received:N0} messages in {replay.Seconds:0.00} s ({replay.Rate:N0} msg/s)");
        return replay;
    }
}
