using Wren.CrashHarness;
using Xunit.Abstractions;

namespace Wren.Fault.Tests;

/// <summary>
/// Disk full against a real broker process whose data directory is on a 48 MiB tmpfs: the short CI version of
/// tools/crash/diskfull.sh, and its negative control. The file system is filled for real (a ballast file until ENOSPC),
/// so RocksDB's own write path fails, not a test hook.
/// </summary>
public sealed class DiskFullTests(ITestOutputHelper output)
{
    [TmpfsFact]
    public async Task A_full_disk_refuses_sends_explicitly_keeps_reads_working_and_writes_resume_when_space_is_freed()
    {
        var report = await RunAsync(new DiskFullOptions { WarmUp = TimeSpan.FromSeconds(1), Full = TimeSpan.FromSeconds(3), After = TimeSpan.FromSeconds(1) });

        // Sends while full were refused with StorageUnavailable, not acknowledged (a false ack would show up as lost).
        Assert.True(report.SentWhileFull > 300, $"only {report.SentWhileFull} sends while full");
        Assert.True(report.StorageUnavailable > report.SentWhileFull / 2, $"only {report.StorageUnavailable} StorageUnavailable answers for {report.SentWhileFull} sends while full");
        Assert.Equal(0, report.OtherErrors);
        Assert.Equal(0, report.Lost);

        // Reads (History, conversation lists, a device connecting with SyncAll) kept working.
        Assert.True(report.ReadsWhileFull > 10, $"only {report.ReadsWhileFull} reads while full");
        Assert.Equal(0, report.ReadFailuresWhileFull);

        // Writes resumed without a restart, and every refused send, re-sent with its id, is stored once.
        Assert.Equal(0, report.NotResumed);
        Assert.All(report.ResumeMs, ms => Assert.True(ms < 10_000, $"writes resumed only {ms:0} ms after the space was freed"));
        Assert.Equal(report.Retried, report.RetriedAcknowledged);
        Assert.Equal(0, report.Duplicated);
        Assert.Equal(0, report.Unexpected);
        Assert.Equal(0, report.SeqGaps);
        Assert.Equal(report.Sent, report.StoredEntries);
        Assert.False(report.BrokerExited);
        Assert.True(report.Passed);
    }

    [TmpfsFact]
    public async Task The_harness_reports_false_acks_when_the_broker_acknowledges_before_the_write_is_durable()
    {
        var report = await RunAsync(new DiskFullOptions
        {
            WarmUp = TimeSpan.FromSeconds(1),
            Full = TimeSpan.FromSeconds(2),
            After = TimeSpan.FromSeconds(1),
            AckBeforeDurable = true,
        });

        Assert.True(report.AcknowledgedWhileFull > 100, $"only {report.AcknowledgedWhileFull} acknowledgements while full");
        Assert.True(report.Lost > 100, "acknowledging before the write must lose the acknowledged sends the full disk refused");
        Assert.False(report.Passed);
    }

    private async Task<DiskFullReport> RunAsync(DiskFullOptions options)
    {
        using var log = new TestOutputWriter(output);
        options.BrokerPath = TestSupport.BrokerPath();
        options.Log = log;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var report = await DiskFullHarness.RunAsync(options, timeout.Token);
        TestSupport.Print(output, report.ToString(), report.Problems, report.BrokerLogSamples);
        return report;
    }
}
