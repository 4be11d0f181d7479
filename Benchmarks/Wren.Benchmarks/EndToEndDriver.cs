using System.Runtime;
using System.Runtime.InteropServices;
using Wren.Storage;

namespace Wren.Benchmarks;

/// <summary>
/// In-process end-to-end load: durable 1:1 sends delivered to two devices, open loop at a fixed rate
/// (<c>dotnet run -c Release --project Benchmarks/Wren.Benchmarks -- e2e --help</c>). Every run gets a fresh broker and
/// fresh connections. Client and broker share this process and its cores.
/// </summary>
public static class EndToEndDriver
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var options = EndToEndOptions.Parse(args);
        if (options is null)
        {
            return 2;
        }

        PrintHeader(options);
        if (options.PrimeSeconds > 0)
        {
            // Tiered compilation is busy for several seconds after start; this keeps it out of the first measured window.
            Console.WriteLine($"priming: {options.PrimeSeconds} s at 1,000 msg/s, not recorded");
            await using var scenario = await EndToEndScenario.StartAsync(options.Pairs, options.Durability, options.SendLimit, options.AutoAck);
            await EndToEndLoad.RunAsync(scenario, options with { WarmupSeconds = 0, DurationSeconds = options.PrimeSeconds }, 1000);
        }

        return options.Sweep ? await SweepAsync(options) : await SingleAsync(options);
    }

    private static async Task<int> SingleAsync(EndToEndOptions options)
    {
        var results = new List<EndToEndResult> { await RunOnceAsync(options, options.Rate, options.Durability) };
        if (options.Peer is { } peer)
        {
            results.Add(await RunOnceAsync(options, options.Rate, peer));
        }

        Console.WriteLine();
        Console.WriteLine(EndToEndResult.Markdown(results, options));
        return results.Any(r => r.Errors > 0 || r.Unfinished > 0) ? 1 : 0;
    }

    /// <summary>
    /// Runs the rates in order until one fails, then bisects between the last pass and the first failure; reports the
    /// highest rate that passed. A rate that fails is run again, up to <see cref="EndToEndOptions.Attempts"/> runs in all,
    /// and passes if any run passes: on a shared machine other work can spoil one window, a real limit fails every time.
    /// </summary>
    private static async Task<int> SweepAsync(EndToEndOptions options)
    {
        var results = new List<EndToEndResult>();
        int? lastPass = null;
        int? firstFail = null;
        foreach (int rate in options.SweepRates)
        {
            if (!await PassesAsync(options, rate, results))
            {
                firstFail = rate;
                break;
            }

            lastPass = rate;
        }

        if (lastPass is { } low && firstFail is { } high)
        {
            for (int step = 0; step < options.RefineSteps; step++)
            {
                int middle = (int)Math.Round((low + high) / 2.0 / 100) * 100;
                if (middle <= low || middle >= high)
                {
                    break;
                }

                (low, high) = await PassesAsync(options, middle, results) ? (middle, high) : (low, middle);
            }

            lastPass = low;
        }

        Console.WriteLine();
        Console.WriteLine(EndToEndResult.Markdown(results.OrderBy(r => r.TargetRate), options));
        string criterion = $"ack p99 < {options.P99TargetMs} ms, acks/s >= {options.MinAchieved:P0} of target, no errors, nothing unfinished";
        Console.WriteLine(lastPass switch
        {
            null => $"No rate passed ({criterion}).",
            int best when firstFail is null => $"Every rate passed ({criterion}); highest tried: {best:N0} msg/s. Add higher --rates.",
            int best => $"Highest passing rate: {best:N0} msg/s ({criterion}, best of {options.Attempts} runs); "
                + $"lowest failing: {results.Where(r => r.TargetRate > best).Min(r => r.TargetRate):N0} msg/s.",
        });
        return lastPass is null ? 1 : 0;
    }

    private static async Task<bool> PassesAsync(EndToEndOptions options, int rate, List<EndToEndResult> results)
    {
        for (int attempt = 0; attempt < options.Attempts; attempt++)
        {
            var result = await RunOnceAsync(options, rate, options.Durability);
            results.Add(result);
            if (result.Passes(options))
            {
                return true;
            }
        }

        return false;
    }

    private static async Task<EndToEndResult> RunOnceAsync(EndToEndOptions options, int rate, DurabilityMode durability)
    {
        // Each run starts from a clean heap and a fresh broker, so earlier runs do not leave work behind.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Console.WriteLine($"run: {durability}, {rate:N0} msg/s, {options.Pairs} pairs, {options.WarmupSeconds} s warm-up + {options.DurationSeconds} s");
        await using var scenario = await EndToEndScenario.StartAsync(options.Pairs, durability, options.SendLimit, options.AutoAck);
        var result = await EndToEndLoad.RunAsync(scenario, options, rate);
        Console.Write(result.Describe());
        return result;
    }

    private static void PrintHeader(EndToEndOptions options)
    {
        string cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
                ?? "?"
            : "?";
        string gc = GCSettings.IsServerGC ? "server" : "workstation";
        string limit = options.SendLimit == 0 ? "off" : options.SendLimit.ToString();
        Console.WriteLine($"Wren end-to-end (in-process), {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores ({cpu}), {RuntimeInformation.OSDescription}, "
            + $"{RuntimeInformation.FrameworkDescription}, {gc} GC ({GCSettings.LatencyMode})");
        Console.WriteLine($"scenario: {options.Pairs} pairs x 4 devices (TLS, client SDK), 1:1 direct conversations, "
            + $"{options.BodyBytes}-byte bodies, per-device send limit {limit}, auto-ack {(options.AutoAck ? "on" : "off")}");
        Console.WriteLine();
    }
}
