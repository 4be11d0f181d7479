using Wren.CrashHarness;
using Xunit.Abstractions;

namespace Wren.Fault.Tests;

/// <summary>
/// Slow consumers against a real broker process: the short CI version of tools/crash/slow.sh and its negative control.
/// 8 chatting devices in 2 groups, joined by 20 devices that stop reading. The outbound limit is lowered to 2 MiB so
/// the stalled devices pass it within seconds. There is no baseline phase here: on a shared 2-core machine the latency
/// ratio is noise; tools/crash/slow.sh measures it.
/// </summary>
public sealed class SlowConsumerTests(ITestOutputHelper output)
{
    private const int Limit = 2 * 1024 * 1024;

    [Fact]
    public async Task Devices_that_stop_reading_are_cut_off_memory_stays_bounded_and_they_catch_up_without_loss()
    {
        var report = await RunAsync(Options(Limit));

        // Every stalled device was disconnected by the broker while it still read nothing (its socket was reset, so the
        // Error{SlowConsumer} frame queued before the close is not readable any more; the test is the socket state).
        Assert.Equal(report.SlowConnections, report.CutOff);
        Assert.Equal(report.SlowConnections, report.ClosedAtDrain);
        Assert.True(report.MemoryBounded, $"VmRSS grew {report.RssPeakMiB - report.RssBeforeMiB:0} MiB, bound {report.MemoryBoundMiB:0} MiB");

        // The others were served: every send acknowledged and stored once.
        Assert.True(report.SlowPhaseDeliveries > 2000, $"only {report.SlowPhaseDeliveries} deliveries to the chatting devices");
        Assert.Equal(0, report.SendErrors);
        Assert.Equal(0, report.Lost);
        Assert.Equal(0, report.Duplicated);
        Assert.Equal(0, report.Unexpected);
        Assert.Equal(0, report.SeqGaps);

        // Each cut-off device reconnects and gets its group's whole log, once, byte for byte.
        Assert.Equal(report.SlowConnections, report.CaughtUp);
        Assert.Equal(0, report.CatchUpLost);
        Assert.Equal(0, report.CatchUpDuplicated);
        Assert.Equal(0, report.CatchUpUnexpected);
        Assert.False(report.BrokerExited);
        Assert.True(report.Passed);
    }

    [Fact]
    public async Task The_harness_reports_stalled_devices_that_are_not_cut_off_when_the_limit_is_effectively_disabled()
    {
        var report = await RunAsync(Options(1024 * 1024 * 1024, checkCatchUp: false));

        Assert.Equal("no-limit", report.Mode);
        Assert.Equal(0, report.CutOff);
        Assert.False(report.AllCutOff);
        Assert.False(report.Passed);
    }

    private static SlowConsumerOptions Options(int brokerLimit, bool checkCatchUp = true) => new()
    {
        // 2 groups × 4 chatting devices × 20 msg/s of 16 KiB: each stalled device is sent 1.3 MB/s, so it passes the
        // kernel's socket buffers (up to 4 MiB on the broker's side) plus the 2 MiB limit within about 5 s of the 9.
        // A lower limit lets a chatting device of a CPU-starved test process be cut off as well (seen at 1 MiB).
        Groups = 2,
        MembersPerGroup = 4,
        Rate = 20,
        BodyBytes = 16 * 1024,
        SlowConnections = 20,
        PhaseDuration = TimeSpan.FromSeconds(9),
        MeasureBaseline = false,
        CheckCatchUp = checkCatchUp,
        CutOffWait = TimeSpan.FromSeconds(8),
        BrokerOutboundLimit = brokerLimit,
        ExpectedOutboundLimit = Limit,
    };

    private async Task<SlowConsumerReport> RunAsync(SlowConsumerOptions options)
    {
        using var log = new TestOutputWriter(output);
        options.BrokerPath = TestSupport.BrokerPath();
        options.Log = log;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        var report = await SlowConsumerHarness.RunAsync(options, timeout.Token);
        TestSupport.Print(output, report.ToString(), report.Problems, report.BrokerLogSamples);
        return report;
    }
}
