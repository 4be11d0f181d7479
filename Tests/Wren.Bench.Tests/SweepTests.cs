using Wren.Bench.Core;

namespace Wren.Bench.Tests;

public class SweepTests
{
    [Fact]
    public async Task Sweep_DoublesThenBisectsToTheLimit()
    {
        var sweep = new RateSweep { StartRate = 1000, BisectSteps = 3, Attempts = 1 };
        var (max, trace) = await sweep.RunAsync(rate => Task.FromResult(rate <= 37_000));
        Assert.Equal(36_000, max);
        Assert.Equal([1000, 2000, 4000, 8000, 16000, 32000, 64000, 48000, 40000, 36000], trace.Select(t => t.Rate));
    }

    [Fact]
    public async Task Sweep_RetriesAFailedRateAndKeepsItWhenARetryPasses()
    {
        int calls = 0;
        var sweep = new RateSweep { StartRate = 1000, MaxRate = 4000, Attempts = 2 };
        // 2,000 fails its first attempt only (a noisy window); the rest pass.
        var (max, trace) = await sweep.RunAsync(rate => Task.FromResult(!(rate == 2000 && calls++ == 0)));
        Assert.Equal(4000, max);
        Assert.Equal([(1000, true), (2000, false), (2000, true), (4000, true)], trace);
    }

    [Fact]
    public async Task Sweep_HalvesBelowAFailingStartRateThenBisects()
    {
        var sweep = new RateSweep { StartRate = 1000, BisectSteps = 3, Attempts = 1 };
        var (max, trace) = await sweep.RunAsync(rate => Task.FromResult(rate <= 300));
        Assert.Equal(281, max);
        Assert.Equal([1000, 500, 250, 375, 312, 281], trace.Select(t => t.Rate));
    }

    [Fact]
    public async Task Sweep_ReturnsZeroWhenNothingDownToTheFloorPasses()
    {
        var (max, trace) = await new RateSweep { StartRate = 1000, MinRate = 250, Attempts = 2 }.RunAsync(_ => Task.FromResult(false));
        Assert.Equal(0, max);
        Assert.Equal([1000, 1000, 500, 500, 250, 250], trace.Select(t => t.Rate));
    }

    [Theory]
    [InlineData(0, 0, 1000, 10.0, true)]
    [InlineData(1, 0, 1000, 10.0, false)]   // an error
    [InlineData(0, 1, 1000, 10.0, false)]   // something unfinished
    [InlineData(0, 0, 940, 10.0, false)]    // below 95 % of the offered rate
    [InlineData(0, 0, 1000, 50.0, false)]   // p99 at the bound
    public void PassCriteria_NeedsNoErrorsTheRateAndTheBound(long errors, long unfinished, double throughput, double p99, bool passes)
    {
        var result = new BenchResult { TargetRate = 1000, Throughput = throughput, Errors = errors, Unfinished = unfinished, Ack = new LatencySummary { P99 = p99 } };
        Assert.Equal(passes, new PassCriteria().Passes(result));
    }

    [Fact]
    public void PassCriteria_FailsOnSlowDeliveriesEvenWhenAcksAreFast()
    {
        var result = new BenchResult { TargetRate = 100, Throughput = 100, Ack = new LatencySummary { P99 = 1 }, Deliver = new LatencySummary { P99 = 80 } };
        Assert.False(new PassCriteria().Passes(result));
        Assert.True(new PassCriteria(P99BoundMs: 100).Passes(result));
    }
}
