using System.Reflection;
using Wren.CrashHarness;
using Xunit.Abstractions;

namespace Wren.Fault.Tests;

/// <summary>
/// kill -9 under load against a real broker process: the short CI version of tools/crash/crash.sh, and its negative
/// control. Both tests are in one class so they run one after the other (each drives a broker at full load).
/// </summary>
public sealed class CrashUnderLoadTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Every_acknowledged_message_survives_repeated_SIGKILLs_under_load_exactly_once()
    {
        var report = await RunAsync(new CrashOptions
        {
            Duration = TimeSpan.FromSeconds(32),
            KillEvery = TimeSpan.FromSeconds(10),
            KillJitter = TimeSpan.FromSeconds(3),
            Clients = 8,
            Rate = 25,
        });

        Assert.True(report.Kills >= 3, $"only {report.Kills} kills");
        Assert.True(report.Acknowledged > 3000, $"only {report.Acknowledged} acknowledged");
        Assert.Equal(0, report.Lost);
        Assert.Equal(0, report.Duplicated);
        Assert.Equal(0, report.Unexpected);
        Assert.Equal(0, report.SeqGaps);
        Assert.True(report.ResendsChecked > 0, "no acknowledged message was re-sent");
        Assert.Equal(0, report.ResendMismatches);
        Assert.Equal(0, report.RetriesUnresolved);
        Assert.All(report.TimeToAcceptMs, ms => Assert.True(ms < 10_000, $"writes accepted only {ms:0} ms after a restart"));
        Assert.Empty(report.Problems);
    }

    [Fact]
    public async Task The_harness_reports_lost_messages_when_the_broker_acknowledges_before_the_write_is_durable()
    {
        var report = await RunAsync(new CrashOptions
        {
            Duration = TimeSpan.FromSeconds(16),
            KillEvery = TimeSpan.FromSeconds(5),
            KillJitter = TimeSpan.FromSeconds(2),
            Clients = 8,
            Rate = 25,
            AckBeforeDurable = true,
        });

        Assert.True(report.Kills >= 3, $"only {report.Kills} kills");
        Assert.True(report.Lost > 0, "acknowledging before the write must lose acknowledged messages at a SIGKILL");
        Assert.False(report.Passed);
    }

    private async Task<CrashReport> RunAsync(CrashOptions options)
    {
        using var log = new OutputWriter(output);
        options.BrokerPath = BrokerPath();
        options.Log = log;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var report = await CrashHarness.CrashHarness.RunAsync(options, timeout.Token);
        output.WriteLine(report.ToString());
        foreach (var problem in report.Problems)
        {
            output.WriteLine("problem: " + problem);
        }

        foreach (var line in report.BrokerLogSamples)
        {
            output.WriteLine("broker: " + line);
        }

        return report;
    }

    private static string BrokerPath()
    {
        var built = typeof(CrashUnderLoadTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "BrokerPath")?.Value;
        var path = built is null ? null : Path.GetFullPath(built);
        return path is not null && File.Exists(path)
            ? path
            : throw new FileNotFoundException("The broker is not built; build Tests/Wren.Fault.Tests. Looked in: " + path);
    }

    /// <summary>Forwards the harness's progress lines to the test output.</summary>
    private sealed class OutputWriter(ITestOutputHelper output) : StringWriter
    {
        public override void WriteLine(string? value)
        {
            try
            {
                output.WriteLine(value ?? "");
            }
            catch (InvalidOperationException)
            {
                // The test already finished.
            }
        }
    }
}
