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
    /// Samples the server's CPU, adds the W3 result for a replay timed by <paramref name="clock"/> and prints its note.
    /// <paramref name="first"/> is inserted after the replay time (for example when the first message arrived).
    /// </summary>
    public static void Report(
        BenchSettings s, BenchReport report, string target, string durability, int pid, CpuSample before, Stopwatch clock,
        Stopwatch fill, long received, long expected, int conversations, string first = "")
    {
        double seconds = clock.Elapsed.TotalSeconds;
        var after = CpuSample.Take(pid);
        var result = new BenchResult
        {
            Target = target,
            Workload = s.Label ?? "W3",
            Durability = durability,
            Seconds = seconds,
            Throughput = received / seconds,
            DeliveriesPerSecond = received / seconds,
            Unfinished = expected - received,
            ServerCpuCores = ProcessStats.Cores(before.Server, after.Server, seconds),
            GeneratorCpuCores = ProcessStats.Cores(before.Generator, after.Generator, seconds),
            MachineCpuCores = CpuSample.MachineCores(before, after, seconds),
            Connections = 1,
            Passed = received == expected,
            Note = $"{received:N0} messages replayed in {seconds:0.00} s{first}; store filled at {expected / fill.Elapsed.TotalSeconds:N0} msg/s",
            Parameters = new() { ["messages"] = Inv(expected), ["conversations"] = Inv(conversations), ["body"] = Inv(s.Window.BodyBytes) },
        };
        if (s.Replays > 1)
        {
            result.Parameters["replays"] = Inv(s.Replays);
        }

        report.Results.Add(result);
        Console.Error.WriteLine($"W3 {target}: {result.Note}: {result.Throughput:N0} msg/s");
    }

    private static string Inv(double v) => v.ToString(CultureInfo.InvariantCulture);
}
