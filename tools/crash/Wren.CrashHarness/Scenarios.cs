using System.Globalization;
using System.Text.Json;

namespace Wren.CrashHarness;

/// <summary>
/// Command-line entry of the scenarios that are not kill/pause runs:
/// <c>--scenario disk-full</c> and <c>--scenario slow-consumers</c>, each with its own options.
/// Exit codes: 0 passed, 1 a check failed, 2 bad arguments, 3 the run could not complete, 4 the scenario cannot run here (no tmpfs mount).
/// </summary>
public static class Scenarios
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>Parses the scenario's arguments, runs it and prints the report.</summary>
    public static async Task<int> MainAsync(string scenario, string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var json = args.Contains("--json");
        try
        {
            switch (scenario)
            {
                case "disk-full":
                {
                    var options = new DiskFullOptions { Log = Console.Error };
                    Parse(args, (name, value) =>
                    {
                        switch (name)
                        {
                            case "--broker": options.BrokerPath = value(); return true;
                            case "--size-mib": options.SizeMiB = int.Parse(value(), CultureInfo.InvariantCulture); return true;
                            case "--clients": options.Clients = int.Parse(value(), CultureInfo.InvariantCulture); return true;
                            case "--rate": options.Rate = double.Parse(value(), CultureInfo.InvariantCulture); return true;
                            case "--conversations": options.Conversations = int.Parse(value(), CultureInfo.InvariantCulture); return true;
                            case "--body-bytes": options.BodyBytes = int.Parse(value(), CultureInfo.InvariantCulture); return true;
                            case "--warm-up": options.WarmUp = Seconds(value()); return true;
                            case "--full": options.Full = Seconds(value()); return true;
                            case "--after": options.After = Seconds(value()); return true;
                            case "--rounds": options.Rounds = int.Parse(value(), CultureInfo.InvariantCulture); return true;
                            case "--seed": options.Seed = int.Parse(value(), CultureInfo.InvariantCulture); return true;
                            case "--ack-before-durable": options.AckBeforeDurable = true; return true;
                            default: return false;
                        }
                    });
                    options.Validate();
                    var report = await DiskFullHarness.RunAsync(options).ConfigureAwait(false);
                    Print(json ? JsonSerializer.Serialize(report, Json) : report.ToString(), json ? [] : report.Problems, json ? [] : report.BrokerLogSamples);
                    return report.Passed ? 0 : 1;
                }

                case "slow-consumers":
                {
                    var options = new SlowConsumerOptions { Log = Console.Error };
                    Parse(args, (name, value) =>
                    {
                        switch (name)
                        {
                            case "--broker": options.BrokerPath = value(); return true;
                            case "--groups": options.Groups = int.Parse(value(), CultureInfo.InvariantCulture); return true;
                            case "--members": options.MembersPerGroup = int.Parse(value(), CultureInfo.InvariantCulture); return true;
                            case "--rate": options.Rate = double.Parse(value(), CultureInfo.InvariantCulture); return true;
                            case "--body-bytes": options.BodyBytes = int.Parse(value(), CultureInfo.InvariantCulture); return true;
                            case "--slow": options.SlowConnections = int.Parse(value(), CultureInfo.InvariantCulture); return true;
                            case "--phase": options.PhaseDuration = Seconds(value()); return true;
                            case "--outbound-limit": options.BrokerOutboundLimit = int.Parse(value(), CultureInfo.InvariantCulture); return true;
                            case "--expected-limit": options.ExpectedOutboundLimit = int.Parse(value(), CultureInfo.InvariantCulture); return true;
                            case "--max-p99-ratio": options.MaxP99Ratio = double.Parse(value(), CultureInfo.InvariantCulture); return true;
                            case "--no-baseline": options.MeasureBaseline = false; return true;
                            case "--no-catch-up": options.CheckCatchUp = false; return true;
                            case "--seed": options.Seed = int.Parse(value(), CultureInfo.InvariantCulture); return true;
                            default: return false;
                        }
                    });
                    options.Validate();
                    var report = await SlowConsumerHarness.RunAsync(options).ConfigureAwait(false);
                    Print(json ? JsonSerializer.Serialize(report, Json) : report.ToString(), json ? [] : report.Problems, json ? [] : report.BrokerLogSamples);
                    return report.Passed ? 0 : 1;
                }

                default:
                    throw new ArgumentException($"--scenario must be disk-full or slow-consumers, not {scenario}");
            }
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException)
        {
            Console.Error.WriteLine($"crash: {ex.Message}");
            Console.Error.WriteLine("usage: Wren.CrashHarness --scenario disk-full --broker Wren.Broker.dll [--size-mib 48] [--clients 4] [--rate 40] [--conversations 2] [--body-bytes 256] [--warm-up S] [--full S] [--after S] [--rounds N] [--seed N] [--ack-before-durable] [--json]");
            Console.Error.WriteLine("       Wren.CrashHarness --scenario slow-consumers --broker Wren.Broker.dll [--groups 10] [--members 4] [--rate 5] [--body-bytes 16384] [--slow 100] [--phase S] [--outbound-limit BYTES] [--expected-limit BYTES] [--max-p99-ratio R] [--no-baseline] [--no-catch-up] [--seed N] [--json]");
            return 2;
        }
        catch (MountUnavailableException ex)
        {
            Console.Error.WriteLine($"crash: the scenario cannot run here: {ex.Message}");
            return 4;
        }
        catch (Exception ex) when (ex is TimeoutException or IOException or Wren.Client.WrenClientException or InvalidOperationException)
        {
            Console.Error.WriteLine($"crash: the run could not complete: {ex}");
            return 3;
        }
    }

    private static TimeSpan Seconds(string value) => TimeSpan.FromSeconds(double.Parse(value, CultureInfo.InvariantCulture));

    private static void Parse(string[] args, Func<string, Func<string>, bool> option)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] is "--json")
            {
                continue;
            }

            var at = i;
            string Value() => at + 1 < args.Length ? args[i = at + 1] : throw new ArgumentException($"{args[at]} needs a value");
            if (!option(args[i], Value))
            {
                throw new ArgumentException($"unknown argument {args[i]}");
            }
        }
    }

    private static void Print(string text, IReadOnlyList<string> problems, IReadOnlyList<string> brokerLines)
    {
        Console.WriteLine(text);
        foreach (var problem in problems)
        {
            Console.WriteLine("  problem: " + problem);
        }

        foreach (var line in brokerLines)
        {
            Console.WriteLine("  broker: " + line);
        }
    }
}
