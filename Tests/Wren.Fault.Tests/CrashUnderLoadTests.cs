using System.Reflection;
using Wren.Client;
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

    [Fact]
    public async Task Every_acknowledged_message_survives_SIGSTOP_pauses_and_clients_resume_after_SIGCONT()
    {
        var report = await RunAsync(new CrashOptions
        {
            Fault = FaultMode.Pause,
            Duration = TimeSpan.FromSeconds(24),
            KillEvery = TimeSpan.FromSeconds(6),
            KillJitter = TimeSpan.FromSeconds(1),
            // Every pause outlasts the idle timeout, so every client must notice it, drop the connection and reconnect.
            PauseMin = TimeSpan.FromSeconds(2),
            PauseMax = TimeSpan.FromSeconds(4),
            BrokerPingInterval = TimeSpan.FromMilliseconds(400),
            BrokerIdleTimeout = TimeSpan.FromMilliseconds(1200),
            ClientRequestTimeout = TimeSpan.FromSeconds(2),
            Clients = 8,
            Rate = 25,
        });

        // Two or three pauses under load and one more after it.
        Assert.True(report.Pauses >= 3, $"only {report.Pauses} pauses");
        Assert.Equal(0, report.Kills);
        Assert.True(report.Acknowledged > 2500, $"only {report.Acknowledged} acknowledged");
        Assert.Equal(0, report.Lost);
        Assert.Equal(0, report.Duplicated);
        Assert.Equal(0, report.Unexpected);
        Assert.Equal(0, report.SeqGaps);
        Assert.True(report.ResendsChecked > 0, "no acknowledged message was re-sent");
        Assert.Equal(0, report.ResendMismatches);
        Assert.Equal(0, report.RetriesUnresolved);
        Assert.True(report.ClientIdleDrops >= report.Pauses * report.Clients, $"clients dropped only {report.ClientIdleDrops} silent connections in {report.Pauses} pauses");
        Assert.True(report.ClientReconnects >= report.ClientIdleDrops, $"{report.ClientReconnects} reconnects after {report.ClientIdleDrops} idle drops");
        Assert.True(report.ReaderReconnects >= report.Pauses, $"the reading device reconnected only {report.ReaderReconnects} times");
        Assert.Equal(report.StoredEntries, report.ReaderDelivered);
        Assert.Equal(0, report.ReaderGaps);
        Assert.Equal(0, report.ReaderRepeats);
        Assert.Equal(0, report.ReaderMissing);
        Assert.All(report.TimeToAcceptMs, ms => Assert.True(ms < 10_000, $"writes accepted only {ms:0} ms after a SIGCONT"));
        Assert.Empty(report.Problems);
    }

    [Fact]
    public async Task The_SDK_drops_a_connection_on_which_nothing_arrives_for_the_idle_timeout_and_reconnects()
    {
        var data = Path.Combine(Path.GetTempPath(), "wren-idle-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            await using var broker = new BrokerProcess(BrokerPath(), data, ackBeforeDurable: false, ["--Wren:Limits:PingInterval=00:00:00.3", "--Wren:Limits:IdleTimeout=00:00:01"]);
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            await broker.StartAsync(TimeSpan.FromSeconds(30), timeout.Token);
            var token = (await File.ReadAllTextAsync(Path.Combine(data, "admin.token"), timeout.Token)).Trim();
            await using var client = await WrenClient.ConnectAsync(
                new WrenClientOptions
                {
                    Host = "127.0.0.1",
                    Port = broker.Port,
                    Token = token,
                    PinnedFingerprint = broker.Fingerprint,
                    SyncOnConnect = false,
                    MinReconnectDelay = TimeSpan.FromMilliseconds(50),
                    MaxReconnectDelay = TimeSpan.FromMilliseconds(200),
                    // Far longer than the idle timeout: only the keep-alive can end the request below early.
                    RequestTimeout = TimeSpan.FromSeconds(30),
                },
                timeout.Token);
            Assert.Equal(1000u, client.Welcome!.Limits.IdleTimeoutMs);
            await client.PingAsync(timeout.Token);

            // A stopped broker keeps the TCP connection open and silent: the pending request must fail within about
            // one idle timeout (not hang until RequestTimeout), with the connection dropped as idle.
            await broker.PauseAsync();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                var pending = client.PingAsync(timeout.Token);
                var failure = await Assert.ThrowsAsync<WrenClientException>(() => pending.WaitAsync(TimeSpan.FromSeconds(10), timeout.Token));
                output.WriteLine($"request failed after {clock.ElapsedMilliseconds} ms: {failure.Message}");
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the request failed only after {clock.Elapsed.TotalSeconds:0.0} s");
                Assert.Equal(1, client.IdleDrops);
            }
            finally
            {
                await broker.ResumeAsync();
            }

            // After SIGCONT the client reconnects by itself and requests work again.
            await client.PingAsync(timeout.Token);
            Assert.True(client.Reconnects >= 1, "the client did not reconnect");
        }
        finally
        {
            try
            {
                Directory.Delete(data, recursive: true);
            }
            catch (IOException)
            {
                // Left behind in the temp directory.
            }
        }
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
