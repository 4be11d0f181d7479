using System.Globalization;
using Wren.Storage;

namespace Wren.Benchmarks;

/// <summary>Command-line options of the end-to-end driver (<c>-- e2e [options]</c>).</summary>
public sealed record EndToEndOptions
{
    public const string Usage = """
        Usage: dotnet run -c Release --project Benchmarks/Wren.Benchmarks -- e2e [options]

        Starts a broker in this process (TLS, temp directory), connects P user pairs with 2 devices per user through the
        client SDK, and sends 1:1 messages from one device of each pair's first user at a fixed total rate (open loop).
        Latency counts from each message's scheduled send time.

          --pairs N          user pairs (4 connections each)                                   default 8
          --rate N           messages per second in total, across all senders                  default 2000
          --duration S       measured seconds                                                  default 10
          --warmup S         seconds sent before measuring (not recorded)                      default 2
          --body N           message body bytes                                                default 200
          --durability M     sync (ack after fsync) or async                                   default sync
          --drain S          seconds to wait for outstanding acks and deliveries               default 10
          --prime S          unrecorded run at 1,000 msg/s first, for the JIT (0 = off)        default 3
          --peer M           also run the same rate with durability M and print both
          --sweep            run increasing rates and report the highest that passes
          --rates A,B,...    sweep rates                                                       default 1000,2000,...,64000
          --refine N         sweep: bisection steps after the first failure                    default 3
          --attempts N       sweep: runs of a failing rate before it counts as failed          default 2
          --p99-ms N         sweep pass: ack p99 below this                                    default 50
          --min-achieved F   sweep pass: acks/s at least F x target                            default 0.95
          --send-limit N     broker's per-device sends/s limit (0 = off)                       default 0
          --no-auto-ack      devices do not ack what they receive (the SDK acks by default)
        """;

    public int Pairs { get; init; } = 8;

    public int Rate { get; init; } = 2000;

    public double DurationSeconds { get; init; } = 10;

    public double WarmupSeconds { get; init; } = 2;

    public int BodyBytes { get; init; } = 200;

    public DurabilityMode Durability { get; init; } = DurabilityMode.Sync;

    public double DrainSeconds { get; init; } = 10;

    public double PrimeSeconds { get; init; } = 3;

    public DurabilityMode? Peer { get; init; }

    public bool Sweep { get; init; }

    public IReadOnlyList<int> SweepRates { get; init; } = [1000, 2000, 4000, 8000, 16000, 32000, 64000];

    public int RefineSteps { get; init; } = 3;

    public int Attempts { get; init; } = 2;

    public double P99TargetMs { get; init; } = 50;

    public double MinAchieved { get; init; } = 0.95;

    public int SendLimit { get; init; }

    public bool AutoAck { get; init; } = true;

    /// <summary>Parses the arguments after <c>e2e</c>; returns null and prints the usage on a bad or help argument.</summary>
    public static EndToEndOptions? Parse(IReadOnlyList<string> args)
    {
        var options = new EndToEndOptions();
        try
        {
            for (int i = 0; i < args.Count; i++)
            {
                string name = args[i];
                string Value() => i + 1 < args.Count ? args[++i] : throw new FormatException($"{name} needs a value");
                int Int() => int.Parse(Value(), CultureInfo.InvariantCulture);
                double Number() => double.Parse(Value(), CultureInfo.InvariantCulture);
                options = name switch
                {
                    "--pairs" => options with { Pairs = Positive(Int(), name) },
                    "--rate" => options with { Rate = Positive(Int(), name) },
                    "--duration" => options with { DurationSeconds = Positive(Number(), name) },
                    "--warmup" => options with { WarmupSeconds = NotNegative(Number(), name) },
                    "--body" => options with { BodyBytes = Math.Max(16, Int()) },
                    "--durability" => options with { Durability = ParseDurability(Value()) },
                    "--drain" => options with { DrainSeconds = Positive(Number(), name) },
                    "--prime" => options with { PrimeSeconds = NotNegative(Number(), name) },
                    "--peer" => options with { Peer = ParseDurability(Value()) },
                    "--sweep" => options with { Sweep = true },
                    "--rates" => options with { SweepRates = [.. Value().Split(',').Select(r => Positive(int.Parse(r, CultureInfo.InvariantCulture), name)).Order()] },
                    "--refine" => options with { RefineSteps = NotNegative(Int(), name) },
                    "--attempts" => options with { Attempts = Positive(Int(), name) },
                    "--p99-ms" => options with { P99TargetMs = Positive(Number(), name) },
                    "--min-achieved" => options with { MinAchieved = Positive(Number(), name) },
                    "--no-auto-ack" => options with { AutoAck = false },
                    "--send-limit" => options with { SendLimit = NotNegative(Int(), name) },
                    _ => throw new FormatException(name is "-h" or "--help" ? "" : $"unknown option {name}"),
                };
            }
        }
        catch (FormatException ex)
        {
            if (ex.Message.Length > 0)
            {
                Console.Error.WriteLine(ex.Message);
            }

            Console.Error.WriteLine(Usage);
            return null;
        }

        return options;
    }

    private static DurabilityMode ParseDurability(string value) => value.ToUpperInvariant() switch
    {
        "SYNC" => DurabilityMode.Sync,
        "ASYNC" => DurabilityMode.Async,
        _ => throw new FormatException($"durability must be sync or async, not {value}"),
    };

    private static T Positive<T>(T value, string name)
        where T : System.Numerics.INumber<T> =>
        value > T.Zero ? value : throw new FormatException($"{name} must be positive");

    private static T NotNegative<T>(T value, string name)
        where T : System.Numerics.INumber<T> =>
        value >= T.Zero ? value : throw new FormatException($"{name} must not be negative");
}
