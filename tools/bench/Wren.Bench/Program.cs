using System.Globalization;
using Wren.Bench.Core;
using Wren.Bench.Workloads;

namespace Wren.Bench;

/// <summary>Entry point of <c>wren bench</c>.</summary>
public static class Program
{
    private const string Usage = """
        wren bench: open-loop load generator for Wren and its peers (see docs/benchmarks.md)

        usage: ./wren.sh bench WORKLOAD [options]      WORKLOAD = w1 | w2 | w3 | w4 | w5
               ./wren.sh bench report --docs FILE [--plot PNG] REPORT.json...
               ./wren.sh bench max-rate --workload W1 --target wren REPORT.json

        target     --target wren|jetstream|nats|redis|mosquitto (default wren; Wren is started by the generator,
                   peers must be running: --port P --pid PID)
                   --broker PATH     Wren.Broker.dll (default: the Release build in this repository)
        rate       --rate R (default 1000 msg/s) or --sweep [--start-rate 1000] [--max-rate 1024000] [--min-rate START/16]
                   [--bisect 3] [--attempts 2]; --p99-bound 50 (ms) --min-throughput 0.95
        window     --warmup 2 --duration 10 --drain 10 --body 200 (bytes) --no-progress
        W1         --pairs 8                    (each user with 2 devices)
        W2         --members 1000 --senders 4
        W3         --messages 100000 --conversations 100 --replays 1 (2: a first, unreported replay warms up)
        W4         --connections 15000 --per-process 5000 --settle 5 --traffic 0 (bytes each connection sends once, to a neighbour)
        W5         --concurrency 32
        output     --json FILE (the report), --label NAME (workload name in reports),
                   --durability TEXT (what the peer's ack means, when it differs from the driver's default)
        """;

    private static readonly HashSet<string> Flags = ["sweep", "no-progress", "help"];

    /// <summary>Runs the command; exit code 0 on success, 1 when a window failed its criteria, 2 on bad usage.</summary>
    public static async Task<int> Main(string[] argv)
    {
        Args args;
        try
        {
            args = new Args(argv, Flags);
        }
        catch (FormatException ex)
        {
            Console.Error.WriteLine($"wren bench: {ex.Message}");
            return 2;
        }

        try
        {
            return args.Command switch
            {
                "idle-child" => await IdleConnections.ChildAsync(args),
                "report" => Report(args),
                "max-rate" => MaxRate(args),
                "w1" or "w2" or "w3" or "w4" or "w5" => await RunAsync(args, argv),
                _ => Help(args),
            };
        }
        catch (FormatException ex)
        {
            Console.Error.WriteLine($"wren bench: {ex.Message}");
            return 2;
        }
    }

    private static int Help(Args args)
    {
        Console.Error.WriteLine(Usage);
        return args.Flag("help") || args.Command.Length == 0 ? 0 : 2;
    }

    private static async Task<int> RunAsync(Args args, string[] argv)
    {
        var s = Settings(args);
        string? json = args.String("json");
        args.RejectUnknown();
        var report = new BenchReport { Machine = Machine.Describe(), Command = "./wren.sh bench " + string.Join(' ', argv) };
        bool wren = s.Target == "wren";
        if (!wren && (s.Port == 0 || s.Pid == 0))
        {
            throw new FormatException($"--target {s.Target} needs --port and --pid of the running server");
        }

        if (wren && !File.Exists(s.BrokerDll))
        {
            throw new FormatException($"broker not found at {s.BrokerDll}: build it (dotnet build -c Release Broker/Wren.Broker) or pass --broker");
        }

        await (args.Command switch
        {
            "w1" => wren ? WrenWorkloads.W1Async(s, report) : PeerWorkloads.W1Async(s, report),
            "w2" => wren ? WrenWorkloads.W2Async(s, report) : PeerWorkloads.W2Async(s, report),
            "w3" => wren ? WrenWorkloads.W3Async(s, report) : PeerWorkloads.W3Async(s, report),
            "w4" => wren ? WrenWorkloads.W4Async(s, report) : PeerWorkloads.W4Async(s, report),
            _ => wren ? WrenWorkloads.W5Async(s, report) : throw new FormatException("W5 runs against wren only"),
        });

        Console.WriteLine(report.ToMarkdownTable());
        if (json is not null)
        {
            await File.WriteAllTextAsync(json, report.ToJson());
        }

        return s.Sweep || report.Results.All(r => r.Passed) ? 0 : 1;
    }

    private static BenchSettings Settings(Args a)
    {
        var defaults = new BenchSettings();
        var window = new OpenLoopOptions();
        var sweep = new RateSweep();
        var criteria = new PassCriteria();
        string target = a.String("target") ?? "wren";
        if (target is not ("wren" or "jetstream" or "nats" or "redis" or "mosquitto"))
        {
            throw new FormatException($"unknown target {target}");
        }

        return new BenchSettings
        {
            Target = target,
            Port = a.Int("port", 0),
            Pid = a.Int("pid", 0),
            BrokerDll = a.String("broker") ?? DefaultBroker(),
            Rate = a.Double("rate", defaults.Rate),
            Sweep = a.Flag("sweep"),
            SweepPlan = new RateSweep
            {
                StartRate = a.Int("start-rate", sweep.StartRate),
                MaxRate = a.Int("max-rate", sweep.MaxRate),
                MinRate = a.Int("min-rate", sweep.MinRate),
                BisectSteps = a.Int("bisect", sweep.BisectSteps),
                Attempts = a.Int("attempts", sweep.Attempts),
            },
            Criteria = new PassCriteria(a.Double("p99-bound", criteria.P99BoundMs), a.Double("min-throughput", criteria.MinThroughputFraction)),
            Window = new OpenLoopOptions
            {
                WarmupSeconds = a.Double("warmup", window.WarmupSeconds),
                DurationSeconds = a.Double("duration", window.DurationSeconds),
                DrainSeconds = a.Double("drain", window.DrainSeconds),
                BodyBytes = a.Int("body", window.BodyBytes),
                Progress = !a.Flag("no-progress"),
            },
            Pairs = a.Int("pairs", defaults.Pairs),
            Members = a.Int("members", defaults.Members),
            Senders = a.Int("senders", defaults.Senders),
            Messages = a.Int("messages", defaults.Messages),
            Conversations = a.Int("conversations", defaults.Conversations),
            Replays = Math.Max(1, a.Int("replays", defaults.Replays)),
            IdleConnections = a.Int("connections", defaults.IdleConnections),
            PerProcess = a.Int("per-process", defaults.PerProcess),
            Traffic = a.Int("traffic", defaults.Traffic),
            SettleSeconds = a.Double("settle", defaults.SettleSeconds),
            Concurrency = a.Int("concurrency", defaults.Concurrency),
            Label = a.String("label"),
            Durability = a.String("durability"),
        };
    }

    /// <summary>Merges reports and writes the comparison block into the docs (and the plot).</summary>
    private static int Report(Args args)
    {
        string docs = args.String("docs") ?? throw new FormatException("report needs --docs FILE");
        string? plot = args.String("plot");
        string? command = args.String("command");
        args.RejectUnknown();
        var reports = args.Positional.Select(p => BenchReport.FromJson(File.ReadAllText(p))).ToList();
        if (reports.Count == 0)
        {
            throw new FormatException("report needs at least one REPORT.json");
        }

        var merged = new BenchReport
        {
            Started = reports.Min(r => r.Started),
            Machine = reports[0].Machine,
            Command = command ?? string.Join("; ", reports.Select(r => r.Command)),
            Results = [.. reports.SelectMany(r => r.Results)],
            Sweeps = [.. reports.SelectMany(r => r.Sweeps)],
        };
        string? relativePlot = null;
        if (plot is not null)
        {
            var series = merged.Results.Where(r => r.Workload == "W1-half" && r.AckCurve is { Count: > 0 })
                .Select(r => ($"{r.Target} ({r.TargetRate:N0} msg/s)", (IReadOnlyList<double[]>)r.AckCurve!)).ToList();
            if (series.Count > 0)
            {
                PercentilePlot.Save(plot, "W1 durable 1:1 chat: ack latency by percentile", series);
                relativePlot = Path.GetRelativePath(Path.GetDirectoryName(Path.GetFullPath(docs))!, Path.GetFullPath(plot));
            }
        }

        string block = Comparison.Markdown(merged, relativePlot);
        File.WriteAllText(docs, Comparison.Splice(File.ReadAllText(docs), block));
        Console.WriteLine(block);
        return 0;
    }

    /// <summary>Prints the highest passing rate a sweep found (0 when none).</summary>
    private static int MaxRate(Args args)
    {
        string workload = args.String("workload") ?? "W1";
        string target = args.String("target") ?? "wren";
        args.RejectUnknown();
        var report = BenchReport.FromJson(File.ReadAllText(args.Positional.Single()));
        int max = report.Sweeps.Where(s => s.Workload == workload && s.Target == target).Select(s => s.MaxRate).DefaultIfEmpty(0).Max();
        Console.WriteLine(max.ToString(CultureInfo.InvariantCulture));
        return 0;
    }

    private static string DefaultBroker()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Broker.sln")))
            {
                return Path.Combine(dir.FullName, "Broker", "Wren.Broker", "bin", "Release", "net10.0", "Wren.Broker.dll");
            }
        }

        return "Wren.Broker.dll";
    }
}
