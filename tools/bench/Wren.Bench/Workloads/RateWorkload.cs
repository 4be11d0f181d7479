using System.Globalization;
using Wren.Bench.Core;

namespace Wren.Bench.Workloads;

/// <summary>W1 and W2: one window at a fixed rate, or a sweep for the highest sustainable rate, on one session.</summary>
public static class RateWorkload
{
    /// <summary>Runs the windows and adds them (and the sweep's answer) to <paramref name="report"/>.</summary>
    public static async Task RunAsync(IMessagingSession session, string target, string workload, BenchSettings settings, int serverPid, BenchReport report, Dictionary<string, string> parameters, string? note = null)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(report);
        var window = settings.Window with { ServerPid = serverPid };
        parameters["body"] = window.BodyBytes.ToString(CultureInfo.InvariantCulture);
        parameters["window"] = $"{window.WarmupSeconds:0.#}s warm-up + {window.DurationSeconds:0.#}s";

        async Task<bool> TryRateAsync(int rate)
        {
            Console.Error.WriteLine($"{workload} {target}: {rate:N0} msg/s");
            long reconnectsBefore = session.Reconnects;
            var result = await OpenLoopRun.RunAsync(session, rate, window);
            result = result with
            {
                Reconnects = session.Reconnects - reconnectsBefore,
                Target = target,
                Workload = workload,
                Passed = settings.Criteria.Passes(result),
                Parameters = new Dictionary<string, string>(parameters),
                Note = note,
                Durability = settings.Durability ?? result.Durability,
            };
            report.Results.Add(result);
            Console.Error.WriteLine(
                $"  {result.Throughput:N0} acks/s, {result.DeliveriesPerSecond:N0} deliveries/s, ack p50/p99/p99.9/max {result.Ack.P50:G3}/{result.Ack.P99:G3}/{result.Ack.P999:G3}/{result.Ack.Max:G3} ms, "
                + $"deliver p99 {result.Deliver.P99:G3} ms, errors {result.Errors}, unfinished {result.Unfinished}, reconnects {result.Reconnects}, server CPU {BenchReport.Cores(result.ServerCpuCores)}: {(result.Passed ? "pass" : "FAIL")}");

            // Let a backlog left by a failed window clear before the next one.
            await Task.Delay(result.Passed ? 500 : 3000);
            return result.Passed;
        }

        // One unrecorded window first, at the start rate of a sweep or at the single rate: a server process started for
        // this run (and the generator's client code) would otherwise meet the first recorded window with code the JIT
        // has not optimised yet. A sweep whose start fails goes down and never comes back up (seen for Wren's W2: cold
        // 10 msg/s failed twice, the sweep reported 8), and a single window measures start-up instead of the rate
        // (Wren's W1 at 20,000 msg/s: ack p99 295 ms cold, 13 ms in the sweep's warm 32,000 window). Every server gets
        // the same window.
        async Task WarmUpAsync(int rate)
        {
            Console.Error.WriteLine($"{workload} {target}: warm-up window at {rate:N0} msg/s (not recorded)");
            var warmUp = await OpenLoopRun.RunAsync(session, rate, window);
            Console.Error.WriteLine($"  warm-up: {warmUp.Throughput:N0} acks/s, ack p99 {warmUp.Ack.P99:G3} ms, deliver p99 {warmUp.Deliver.P99:G3} ms");
            await Task.Delay(500);
        }

        if (!settings.Sweep)
        {
            await WarmUpAsync((int)settings.Rate);
            await TryRateAsync((int)settings.Rate);
            return;
        }

        await WarmUpAsync(settings.SweepPlan.StartRate);
        var (max, _) = await settings.SweepPlan.RunAsync(TryRateAsync);
        report.Sweeps.Add(new SweepOutcome { Target = target, Workload = workload, MaxRate = max, P99BoundMs = settings.Criteria.P99BoundMs });
        Console.Error.WriteLine($"{workload} {target}: highest sustainable rate {max:N0} msg/s (ack p99 < {settings.Criteria.P99BoundMs} ms)");
    }
}
