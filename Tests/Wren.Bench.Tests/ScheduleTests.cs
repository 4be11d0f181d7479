using Wren.Bench.Core;

namespace Wren.Bench.Tests;

public class ScheduleTests
{
    private const long Hz = 1_000_000; // one tick per microsecond keeps the arithmetic readable

    [Fact]
    public void Due_SpacesMessagesByTheRate()
    {
        var schedule = new OpenLoopSchedule(StartTicks: 5_000, Rate: 4000, TicksPerSecond: Hz);
        Assert.Equal(5_000, schedule.Due(0));
        Assert.Equal(5_250, schedule.Due(1));
        Assert.Equal(5_000 + 1_000_000, schedule.Due(4000));
        Assert.Equal(12_000, schedule.CountWithin(3));
    }

    [Fact]
    public void SenderOf_TakesTurns()
    {
        Assert.Equal([0, 1, 2, 0, 1, 2], Enumerable.Range(0, 6).Select(g => OpenLoopSchedule.SenderOf(g, 3)));
    }

    [Fact]
    public void LatencyMicros_CountsFromTheDueTimeAndClamps()
    {
        var schedule = new OpenLoopSchedule(0, 1000, Hz);
        Assert.Equal(1_500, schedule.LatencyMicros(due: 1_000, completed: 2_500, highestMicros: 10_000));
        Assert.Equal(1, schedule.LatencyMicros(due: 1_000, completed: 1_000, highestMicros: 10_000));
        Assert.Equal(10_000, schedule.LatencyMicros(due: 0, completed: 50_000, highestMicros: 10_000));
    }

    /// <summary>
    /// A server that answers in 1 ms but stalls for 500 ms once, offered 1,000 msg/s for 3 s. Measuring from the due
    /// time charges the stall to every message scheduled during it (about 500 of 3,000: p99 near 500 ms). The negative
    /// control, measuring from the moment each send actually started as a closed-loop client would, sees one slow
    /// message and a p99 of 1 ms: the correction is what makes the stall visible.
    /// </summary>
    [Fact]
    public void Stall_ShowsInCorrectedPercentiles_AndHidesFromSendTimeMeasurement()
    {
        var schedule = new OpenLoopSchedule(0, 1000, Hz);
        var corrected = LatencyRecorder.NewHistogram();
        var naive = LatencyRecorder.NewHistogram();
        long serverFree = 0;
        for (long g = 0; g < schedule.CountWithin(3); g++)
        {
            long due = schedule.Due(g);
            long start = Math.Max(due, serverFree);            // the request waits behind the previous one
            long service = g == 1000 ? 500_000 : 1_000;        // one 500 ms stall at t = 1 s
            long done = start + service;
            serverFree = done;
            corrected.RecordValue(schedule.LatencyMicros(due, done, LatencyRecorder.HighestMicros));
            naive.RecordValue(schedule.LatencyMicros(start, done, LatencyRecorder.HighestMicros));
        }

        var fixedSummary = LatencySummary.From(corrected);
        var naiveSummary = LatencySummary.From(naive);
        Assert.InRange(fixedSummary.P99, 400, 510);
        Assert.InRange(fixedSummary.P90, 50, 510);
        Assert.InRange(naiveSummary.P99, 0.9, 1.1);
        Assert.Equal(500, naiveSummary.Max, 0);
    }

    /// <summary>
    /// The pacer never sends early: for due times just ahead, in the past, and several quanta away, WaitUntil returns
    /// only once the clock has reached the due time. (How late it wakes is a matter for the benchmarks, not a test.)
    /// </summary>
    [Fact]
    public void PacerClock_NeverReturnsBeforeTheDueTime()
    {
        PacerClock.UsePreciseTimers();
        long f = System.Diagnostics.Stopwatch.Frequency;
        foreach (long ahead in (long[])[-f / 1000, 0, f / 20_000, f / 2000, f / 100])
        {
            long due = System.Diagnostics.Stopwatch.GetTimestamp() + ahead;
            PacerClock.WaitUntil(due);
            Assert.True(System.Diagnostics.Stopwatch.GetTimestamp() >= due, $"returned before a due time {ahead} ticks ahead");
        }
    }

    [Fact]
    public void ReplayChoice_ReportsTheOnlyTheSecondOrTheMedianWarmReplay()
    {
        Assert.Equal(0, ReplayChoice.ReportedIndex([5.0]));
        Assert.Equal(1, ReplayChoice.ReportedIndex([5.0, 1.0]));
        // The cold first replay never counts: 9 would be the median of all four, 3 is the median of the warm ones.
        Assert.Equal(2, ReplayChoice.ReportedIndex([9.0, 1.0, 3.0, 7.0]));
        // Even count: the lower middle one.
        Assert.Equal(3, ReplayChoice.ReportedIndex([0.5, 8.0, 2.0, 4.0, 6.0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ReplayChoice.ReportedIndex([]));
    }
}
