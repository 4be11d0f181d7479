using HdrHistogram;
using Wren.Bench.Core;

namespace Wren.Bench.Tests;

public class RecorderTests
{
    [Fact]
    public void Merge_AddsEveryThreadsHistogram()
    {
        using var recorder = new LatencyRecorder();
        var threads = Enumerable.Range(1, 4).Select(t => new Thread(() =>
        {
            for (int i = 0; i < 1000; i++)
            {
                recorder.Record(t * 1000);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        var merged = recorder.Merge();
        Assert.Equal(4000, merged.TotalCount);
        Assert.Equal(1000, merged.GetValueAtPercentile(10), 1000 / 500.0);
        Assert.Equal(4000, merged.GetMaxValue(), 4000 / 500.0);
        var summary = LatencySummary.From(merged);
        Assert.Equal(2.0, summary.P50, 0.01);
        Assert.Equal(4.0, summary.Max, 0.01);
    }

    [Fact]
    public void Record_ClampsOutOfRangeValues()
    {
        using var recorder = new LatencyRecorder();
        recorder.Record(0);
        recorder.Record(-5);
        recorder.Record(long.MaxValue);
        var merged = recorder.Merge();
        Assert.Equal(3, merged.TotalCount);
        Assert.True(merged.GetMaxValue() >= LatencyRecorder.HighestMicros * 0.999);
    }

    [Fact]
    public void Curve_RisesToTheTail()
    {
        var histogram = LatencyRecorder.NewHistogram();
        for (int i = 1; i <= 100_000; i++)
        {
            histogram.RecordValue(i);
        }

        var curve = LatencySummary.Curve(histogram);
        Assert.Equal(0, curve[0].Percentile);
        Assert.True(curve[^1].Percentile > 99.99);
        Assert.True(curve.Zip(curve.Skip(1)).All(p => p.Second.Ms >= p.First.Ms));
        Assert.Equal(0.0, LatencySummary.Curve(LatencyRecorder.NewHistogram()).Count);
    }
}
