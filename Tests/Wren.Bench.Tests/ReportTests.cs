using Wren.Bench.Core;

namespace Wren.Bench.Tests;

public class ReportTests
{
    private static BenchReport Sample() => new()
    {
        Machine = "2 cores",
        Command = "./wren.sh bench w1 --sweep",
        Results =
        [
            new BenchResult { Target = "wren", Workload = "W1-half", TargetRate = 16000, Throughput = 15990, Ack = new LatencySummary { Count = 5, P99 = 3.5, P999 = 9 }, AckCurve = [[0, 0.5], [99, 3.5]] },
            new BenchResult { Target = "jetstream", Workload = "W1-half", TargetRate = 16000, Ack = new LatencySummary { P99 = 7, P999 = 20 } },
            new BenchResult { Target = "wren", Workload = "W4", BytesPerConnection = 9000, Passed = true },
            new BenchResult { Target = "mosquitto", Workload = "W4", BytesPerConnection = 3000, Passed = true, Note = "no fsync" },
        ],
        Sweeps =
        [
            new SweepOutcome { Target = "wren", Workload = "W1", MaxRate = 32000 },
            new SweepOutcome { Target = "jetstream", Workload = "W1", MaxRate = 8000 },
        ],
    };

    [Fact]
    public void Json_RoundTripsIncludingUnknownCpu()
    {
        var report = Sample();
        string json = report.ToJson();
        Assert.Contains("\"serverCpuCores\": \"NaN\"", json, StringComparison.Ordinal);
        var back = BenchReport.FromJson(json);
        Assert.Equal(report.Results.Count, back.Results.Count);
        Assert.Equal(3.5, back.Results[0].Ack.P99);
        Assert.True(double.IsNaN(back.Results[0].ServerCpuCores));
        Assert.Equal(32000, back.Sweeps[0].MaxRate);
        Assert.Equal([99, 3.5], back.Results[0].AckCurve![1]);
    }

    [Fact]
    public void Comparison_RatiosAreWrenOverPeer()
    {
        var rows = Comparison.Rows(Sample());
        var max = rows.Single(r => r.Workload == "W1" && r.Peer == "jetstream");
        Assert.Equal(4.0, max.Ratio);
        Assert.True(double.IsNaN(rows.Single(r => r.Workload == "W1" && r.Peer == "redis").Ratio));
        Assert.Equal(0.5, rows.Single(r => r.Workload.StartsWith("W1 at", StringComparison.Ordinal) && r.Metric == "ack p99 ms" && r.Peer == "jetstream").Ratio);
        Assert.Equal(3.0, rows.Single(r => r.Workload == "W4").Ratio);
    }

    [Fact]
    public void Splice_ReplacesOnlyTheGeneratedBlock()
    {
        string doc = $"# Title\n\nbefore `{Comparison.Begin}`\n\n{Comparison.Begin}\nold numbers\n{Comparison.End}\n\nafter\n";
        string block = Comparison.Markdown(Sample(), "img/plot.png");
        string spliced = Comparison.Splice(doc, block);
        Assert.DoesNotContain("old numbers", spliced, StringComparison.Ordinal);
        Assert.StartsWith($"# Title\n\nbefore `{Comparison.Begin}`\n\n{Comparison.Begin}", spliced, StringComparison.Ordinal);
        Assert.EndsWith(Comparison.End + "\n\nafter\n", spliced, StringComparison.Ordinal);
        Assert.Contains("| W1 | max sustainable msg/s (ack p99 < bound) | 32,000 | jetstream | 8,000 | 4.00× |", spliced, StringComparison.Ordinal);
        Assert.Contains("![W1 ack latency", spliced, StringComparison.Ordinal);
        // Splicing again is stable.
        Assert.Equal(spliced, Comparison.Splice(spliced, block));
        // Without markers the block is appended.
        Assert.EndsWith(block, Comparison.Splice("# Only a title\n", block), StringComparison.Ordinal);
    }
}
