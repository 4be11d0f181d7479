using System.Diagnostics;
using System.Globalization;
using Wren.Client;
using Wren.Protocol;

namespace Wren.CrashHarness;

/// <summary>What the disk-full scenario runs.</summary>
public sealed class DiskFullOptions
{
    /// <summary>Path of the built broker (<c>Wren.Broker.dll</c>).</summary>
    public string BrokerPath { get; set; } = "";

    /// <summary>Size of the tmpfs that holds the data directory. Default 48 MiB.</summary>
    public int SizeMiB { get; set; } = 48;

    /// <summary>Sending clients (one user and device each; they share the groups). Default 4.</summary>
    public int Clients { get; set; } = 4;

    /// <summary>Sends per second per client (open loop). Default 40.</summary>
    public double Rate { get; set; } = 40;

    /// <summary>Groups every client sends to. Default 2.</summary>
    public int Conversations { get; set; } = 2;

    /// <summary>Message body size. Default 256 bytes.</summary>
    public int BodyBytes { get; set; } = 256;

    /// <summary>Load before the file system is filled. Default 3 s.</summary>
    public TimeSpan WarmUp { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Load while the file system is full. Default 6 s.</summary>
    public TimeSpan Full { get; set; } = TimeSpan.FromSeconds(6);

    /// <summary>Load after the ballast is deleted. Default 4 s.</summary>
    public TimeSpan After { get; set; } = TimeSpan.FromSeconds(4);

    /// <summary>Fill and free this many times. Default 1.</summary>
    public int Rounds { get; set; } = 1;

    /// <summary>How long writes may take to resume after the ballast is deleted before the run fails. Default 30 s.</summary>
    public TimeSpan ResumeTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The clients' request timeout; a send without an answer within it counts as a failure (no explicit error). Default 10 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Negative control: start the broker with <c>Wren:Testing:AckBeforeDurable</c>.</summary>
    public bool AckBeforeDurable { get; set; }

    /// <summary>Seed of the load. Default: random (reported).</summary>
    public int? Seed { get; set; }

    /// <summary>Where progress lines go; null for none.</summary>
    public TextWriter? Log { get; set; }

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(BrokerPath) || !File.Exists(BrokerPath))
        {
            throw new ArgumentException($"The broker dll '{BrokerPath}' does not exist; build Broker/Wren.Broker first.", nameof(BrokerPath));
        }

        if (SizeMiB < 16 || Clients < 1 || Rate <= 0 || Conversations < 1 || BodyBytes < 16 || Rounds < 1)
        {
            throw new ArgumentException("SizeMiB must be at least 16, BodyBytes at least 16, and Clients, Rate, Conversations, Rounds positive.");
        }
    }
}

/// <summary>The outcome of a disk-full run.</summary>
public sealed class DiskFullReport
{
    /// <summary>"durable" or "ack-before-durable" (the negative control).</summary>
    public string Mode { get; set; } = "durable";

    /// <summary>Seed of the load.</summary>
    public int Seed { get; set; }

    /// <summary>The tmpfs size.</summary>
    public int SizeMiB { get; set; }

    /// <summary>Sending clients.</summary>
    public int Clients { get; set; }

    /// <summary>Sends per second per client.</summary>
    public double Rate { get; set; }

    /// <summary>Seconds of load in all.</summary>
    public double DurationSeconds { get; set; }

    /// <summary>Fill/free rounds.</summary>
    public int Rounds { get; set; }

    /// <summary>Bytes of ballast written per round until the file system was full.</summary>
    public List<long> BallastBytes { get; set; } = [];

    /// <summary>Distinct client message ids sent.</summary>
    public int Sent { get; set; }

    /// <summary>Sends acknowledged on their first attempt.</summary>
    public int Acknowledged { get; set; }

    /// <summary>Sends issued while the file system was full (after the ballast filled it, before it was deleted).</summary>
    public int SentWhileFull { get; set; }

    /// <summary>Of <see cref="SentWhileFull"/>: acknowledged (legitimate only if stored; a false ack shows up as lost).</summary>
    public int AcknowledgedWhileFull { get; set; }

    /// <summary>Sends answered with StorageUnavailable (an explicit error, nothing acknowledged).</summary>
    public int StorageUnavailable { get; set; }

    /// <summary>Sends answered with another error code, or with no answer (timeout, connection lost): failures.</summary>
    public int OtherErrors { get; set; }

    /// <summary>Milliseconds from the file system being full to the first StorageUnavailable answer, per round.</summary>
    public List<double> FirstErrorMs { get; set; } = [];

    /// <summary>Reads while full (History pages, conversation lists, a fresh device connecting with SyncAll) that succeeded.</summary>
    public int ReadsWhileFull { get; set; }

    /// <summary>Reads while full that failed: failures.</summary>
    public int ReadFailuresWhileFull { get; set; }

    /// <summary>Milliseconds from deleting the ballast to the first acknowledged write, per round (no restart).</summary>
    public List<double> ResumeMs { get; set; } = [];

    /// <summary>Rounds in which writes did not resume within the timeout: failures.</summary>
    public int NotResumed { get; set; }

    /// <summary>Refused sends re-sent with the same id after the space was freed.</summary>
    public int Retried { get; set; }

    /// <summary>Of <see cref="Retried"/>: acknowledged (the rest are failures).</summary>
    public int RetriedAcknowledged { get; set; }

    /// <summary>Of <see cref="RetriedAcknowledged"/>: answered Duplicate (the refused write had reached the disk and came back when the store reopened).</summary>
    public int RetriedDuplicate { get; set; }

    /// <summary>Acknowledged (first attempt or retry), but not stored at the acknowledged conversation and seq.</summary>
    public int Lost { get; set; }

    /// <summary>Extra copies of one client message id.</summary>
    public int Duplicated { get; set; }

    /// <summary>Entries never sent or with another body or conversation.</summary>
    public int Unexpected { get; set; }

    /// <summary>Missing seqs in the logs.</summary>
    public int SeqGaps { get; set; }

    /// <summary>Entries read back at the end.</summary>
    public int StoredEntries { get; set; }

    /// <summary>True when the broker process exited during the run: a failure.</summary>
    public bool BrokerExited { get; set; }

    /// <summary>Warning lines the broker logged.</summary>
    public int BrokerWarnings { get; set; }

    /// <summary>Error lines the broker logged.</summary>
    public int BrokerErrors { get; set; }

    /// <summary>The sum that decides the exit code.</summary>
    public int Failures => Lost + Duplicated + Unexpected + SeqGaps + OtherErrors + ReadFailuresWhileFull + NotResumed
        + (Retried - RetriedAcknowledged) + (BrokerExited ? 1 : 0) + (StorageUnavailable == 0 ? 1 : 0);

    /// <summary>True when every send was acknowledged and stored or refused explicitly, reads worked and writes resumed.</summary>
    public bool Passed => Failures == 0;

    /// <summary>The first problems found.</summary>
    public List<string> Problems { get; set; } = [];

    /// <summary>The first warning and error lines of the broker.</summary>
    public List<string> BrokerLogSamples { get; set; } = [];

    /// <inheritdoc/>
    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        return $"disk full, mode {Mode}, seed {Seed}: {Clients} clients × {Rate:0.#}/s, data directory on a {SizeMiB} MiB tmpfs, {Rounds} round(s), {DurationSeconds:0} s of load\n" +
            $"sent {Sent}, acknowledged {Acknowledged}; while full: sent {SentWhileFull}, acknowledged {AcknowledgedWhileFull}; " +
            $"StorageUnavailable {StorageUnavailable}, other errors/no answer {OtherErrors}; first error after full {string.Join("/", FirstErrorMs.Select(m => m.ToString("0", c)))} ms\n" +
            $"reads while full: {ReadsWhileFull} ok, {ReadFailuresWhileFull} failed; writes resumed {string.Join("/", ResumeMs.Select(m => m.ToString("0", c)))} ms after the ballast was deleted (not resumed: {NotResumed})\n" +
            $"refused sends re-sent: {Retried}, acknowledged {RetriedAcknowledged} ({RetriedDuplicate} as Duplicate)\n" +
            $"lost {Lost}, duplicated {Duplicated}, unexpected {Unexpected}, seq gaps {SeqGaps}, stored entries {StoredEntries}; broker exited {BrokerExited}, warnings {BrokerWarnings}, errors {BrokerErrors}\n" +
            (Passed ? "PASSED" : $"FAILED: {Failures} failures");
    }
}

/// <summary>
/// Disk full: the broker's data directory on a small tmpfs, filled with a ballast file under load. Every send must be
/// acknowledged and stored or refused with StorageUnavailable (never a false ack); reads keep working; after the ballast
/// is deleted writes resume without a restart; refused sends re-sent with their ids are stored; at the end every
/// acknowledged message is stored exactly once.
/// </summary>
public static class DiskFullHarness
{
    private const string Ballast = "ballast";

    /// <summary>Runs the scenario; the broker is gone and the tmpfs unmounted when it returns.</summary>
    /// <exception cref="MountUnavailableException">No tmpfs can be mounted here.</exception>
    public static async Task<DiskFullReport> RunAsync(DiskFullOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var seed = options.Seed ?? Random.Shared.Next();
        var random = new Random(seed);
        var report = new DiskFullReport
        {
            Mode = options.AckBeforeDurable ? "ack-before-durable" : "durable",
            Seed = seed,
            SizeMiB = options.SizeMiB,
            Clients = options.Clients,
            Rate = options.Rate,
            Rounds = options.Rounds,
        };
        void Log(string line) => options.Log?.WriteLine($"[diskfull {DateTime.Now:HH:mm:ss}] {line}");

        using var tmpfs = Tmpfs.Mount(options.SizeMiB);
        var data = Path.Combine(tmpfs.Path, "data");
        var broker = new BrokerProcess(options.BrokerPath, data, options.AckBeforeDurable);
        var clients = new List<WrenClient>();
        WrenClient? reader = null;
        try
        {
            await broker.StartAsync(TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
            Log($"broker on 127.0.0.1:{broker.Port}, data in {data} ({options.SizeMiB} MiB tmpfs), mode {report.Mode}, seed {seed}");
            var runId = "d" + seed.ToString("x8", CultureInfo.InvariantCulture);
            var conversations = new List<ulong>();
            string readerToken;
            List<string[]> tokens;
            var adminToken = await ScenarioSetup.AdminTokenAsync(data, cancellationToken).ConfigureAwait(false);
            await using (var admin = await WrenClient.ConnectAsync(ScenarioSetup.ClientOptions(broker, adminToken, false, TimeSpan.FromSeconds(10)), cancellationToken).ConfigureAwait(false))
            {
                (var userIds, tokens) = await ScenarioSetup.CreateUsersAsync(admin, runId, options.Clients + 1, 2, cancellationToken).ConfigureAwait(false);
                readerToken = tokens[^1][0];
                await using var owner = await WrenClient.ConnectAsync(ScenarioSetup.ClientOptions(broker, tokens[^1][1], false, TimeSpan.FromSeconds(10)), cancellationToken).ConfigureAwait(false);
                for (var c = 0; c < options.Conversations; c++)
                {
                    conversations.Add((await owner.CreateGroupAsync($"full-{c}", userIds, cancellationToken).ConfigureAwait(false)).ConversationId);
                }
            }

            // No auto-reconnect: a send ends with an ack or an error, never a silent retry.
            for (var i = 0; i < options.Clients; i++)
            {
                clients.Add(await WrenClient.ConnectAsync(ScenarioSetup.ClientOptions(broker, tokens[i][0], false, options.RequestTimeout), cancellationToken).ConfigureAwait(false));
            }

            reader = await WrenClient.ConnectAsync(ScenarioSetup.ClientOptions(broker, readerToken, false, options.RequestTimeout), cancellationToken).ConfigureAwait(false);
            Log($"{options.Clients} clients connected, {options.Conversations} groups");

            var sends = new System.Collections.Concurrent.ConcurrentBag<ScenarioSend>();
            var pending = new TaskBag();
            var counter = 0;
            ScenarioSend Send(int client)
            {
                var n = Interlocked.Increment(ref counter);
                var body = new byte[options.BodyBytes];
                lock (random)
                {
                    random.NextBytes(body);
                }

                var send = new ScenarioSend($"{runId}-c{client}-{n}", client, conversations[n % conversations.Count], body, Stopwatch.GetTimestamp());
                sends.Add(send);
                pending.Add(SendAsync(clients[client], send));
                return send;
            }

            using var loadStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var load = Enumerable.Range(0, options.Clients).Select(i => LoadAsync(i, options.Rate, () => Send(i), loadStop.Token)).ToArray();
            var clock = Stopwatch.StartNew();
            await Task.Delay(options.WarmUp, cancellationToken).ConfigureAwait(false);

            for (var round = 1; round <= options.Rounds; round++)
            {
                // Fill the file system: from here on every write of the broker fails with ENOSPC.
                var ballast = tmpfs.Fill(Ballast);
                var full = Stopwatch.GetTimestamp();
                report.BallastBytes.Add(ballast);
                Log($"round {round}: file system full ({ballast / (1024.0 * 1024):0.0} MiB of ballast, {tmpfs.FreeBytes} bytes free)");

                using (var readsStop = new CancellationTokenSource(options.Full))
                {
                    var (ok, failed) = await ReadWhileFullAsync(broker, reader, conversations, readerToken, options, Log, readsStop.Token).ConfigureAwait(false);
                    report.ReadsWhileFull += ok;
                    report.ReadFailuresWhileFull += failed;
                }

                var firstError = sends.Where(s => s.SentAt >= full && s.ErrorCode == ErrorCode.StorageUnavailable).Select(s => s.SentAt).DefaultIfEmpty(0).Min();
                if (firstError > 0)
                {
                    report.FirstErrorMs.Add(Math.Round(Stopwatch.GetElapsedTime(full, firstError).TotalMilliseconds, 1));
                }

                // Free the space: writes must resume without a restart.
                File.Delete(Path.Combine(tmpfs.Path, Ballast));
                var freed = Stopwatch.GetTimestamp();
                var resumed = await ProbeUntilAcceptedAsync(clients[0], conversations[0], runId + "-probe" + round, sends, options.ResumeTimeout, cancellationToken).ConfigureAwait(false);
                if (resumed)
                {
                    var ms = Stopwatch.GetElapsedTime(freed).TotalMilliseconds;
                    report.ResumeMs.Add(Math.Round(ms, 1));
                    Log($"round {round}: ballast deleted, writes accepted again after {ms:0} ms");
                }
                else
                {
                    report.NotResumed++;
                    Log($"round {round}: writes did not resume within {options.ResumeTimeout.TotalSeconds:0} s of deleting the ballast");
                }

                await Task.Delay(options.After, cancellationToken).ConfigureAwait(false);
                CountWhileFull(sends, full, freed, report);
            }

            await loadStop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(load).ConfigureAwait(false);
            report.DurationSeconds = Math.Round(clock.Elapsed.TotalSeconds, 1);
            using (var drain = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                drain.CancelAfter(options.RequestTimeout * 2);
                await pending.WhenAll(drain.Token).ConfigureAwait(false);
            }

            // Every refused send again with its id: each must be acknowledged now (Duplicate if the refused write came back).
            // Each client re-sends its own, one at a time, waiting out RateLimited as a client must.
            var refused = sends.Where(s => s.Ack is null && s.ErrorCode == ErrorCode.StorageUnavailable).ToList();
            report.Retried = refused.Count;
            var retried = await Task.WhenAll(refused.GroupBy(s => s.Client).Select(async group =>
            {
                var (acknowledged, duplicate) = (0, 0);
                foreach (var send in group)
                {
                    while (true)
                    {
                        try
                        {
                            var ack = await clients[send.Client].SendAsync(send.ConversationId, send.Body, send.ClientMsgId, cancellationToken).ConfigureAwait(false);
                            send.Acknowledged(ack);
                            acknowledged++;
                            duplicate += ack.Duplicate ? 1 : 0;
                            break;
                        }
                        catch (WrenClientException ex) when (ex.Code == ErrorCode.RateLimited)
                        {
                            await Task.Delay((int)Math.Clamp(ex.RetryAfterMs, 10, 1000), cancellationToken).ConfigureAwait(false);
                        }
                        catch (WrenClientException ex)
                        {
                            Problem(report, $"re-send of refused {send.ClientMsgId} failed: {ex.Message}");
                            break;
                        }
                    }
                }

                return (acknowledged, duplicate);
            })).ConfigureAwait(false);
            report.RetriedAcknowledged = retried.Sum(r => r.acknowledged);
            report.RetriedDuplicate = retried.Sum(r => r.duplicate);

            var all = sends.ToList();
            report.Sent = all.Count;
            report.StorageUnavailable = all.Count(s => s.ErrorCode == ErrorCode.StorageUnavailable);
            report.OtherErrors = all.Count(s => s.Ack is null && s.ErrorCode != ErrorCode.StorageUnavailable);
            foreach (var other in all.Where(s => s.Ack is null && s.ErrorCode != ErrorCode.StorageUnavailable).Take(5))
            {
                Problem(report, $"{other.ClientMsgId}: neither acknowledged nor refused with StorageUnavailable: {other.ErrorCode?.ToString() ?? other.LocalError}");
            }

            report.Acknowledged = all.Count(s => s.Ack is not null) - report.RetriedAcknowledged;
            report.BrokerExited = broker.HasExited;
            if (!report.BrokerExited)
            {
                var check = await HistoryCheck.RunAsync(reader, conversations, all, cancellationToken).ConfigureAwait(false);
                report.Lost = check.Lost;
                report.Duplicated = check.Duplicated;
                report.Unexpected = check.Unexpected;
                report.SeqGaps = check.SeqGaps;
                report.StoredEntries = check.StoredEntries;
                foreach (var problem in check.Problems)
                {
                    Problem(report, problem);
                }
            }

            report.BrokerWarnings = broker.Warnings;
            report.BrokerErrors = broker.Errors;
            report.BrokerLogSamples = [.. broker.ErrorSamples.Take(5).Concat(broker.Samples.Where(l => !l.Contains("Append refused", StringComparison.Ordinal)).Take(5)).Select(l => l.Length > 300 ? l[..300] + "…" : l)];
            return report;
        }
        finally
        {
            if (reader is not null)
            {
                await reader.DisposeAsync().ConfigureAwait(false);
            }

            foreach (var client in clients)
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }

            await broker.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static void CountWhileFull(IEnumerable<ScenarioSend> sends, long full, long freed, DiskFullReport report)
    {
        foreach (var send in sends)
        {
            if (send.SentAt >= full && send.SentAt < freed)
            {
                report.SentWhileFull++;
                if (send.Ack is not null)
                {
                    report.AcknowledgedWhileFull++;
                }
            }
        }
    }

    private static async Task SendAsync(WrenClient client, ScenarioSend send)
    {
        try
        {
            send.Acknowledged(await client.SendAsync(send.ConversationId, send.Body, send.ClientMsgId).ConfigureAwait(false));
        }
        catch (Exception ex) when (ex is WrenClientException or TimeoutException or OperationCanceledException or IOException or InvalidOperationException)
        {
            send.Failed(ex);
        }
    }

    /// <summary>Calls <paramref name="send"/> at <paramref name="rate"/> per second (open loop) until cancelled.</summary>
    internal static async Task LoadAsync(int index, double rate, Func<ScenarioSend> send, CancellationToken cancellationToken)
    {
        _ = index;
        var clock = Stopwatch.StartNew();
        var period = TimeSpan.FromSeconds(1 / rate);
        long tick = 0;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var wait = (period * tick) - clock.Elapsed;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
                }

                tick++;
                send();
            }
        }
        catch (OperationCanceledException)
        {
            // The load phase ended.
        }
    }

    /// <summary>Reads while the disk is full: History pages, the conversation list and a fresh device connecting (SyncAll).</summary>
    private static async Task<(int Ok, int Failed)> ReadWhileFullAsync(
        BrokerProcess broker, WrenClient reader, IReadOnlyList<ulong> conversations, string readerToken, DiskFullOptions options,
        Action<string> log, CancellationToken stop)
    {
        var ok = 0;
        var failed = 0;
        var round = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                foreach (var conversation in conversations)
                {
                    var page = await reader.HistoryAsync(conversation, 0, 50, CancellationToken.None).ConfigureAwait(false);
                    ok += page.Messages.Length > 0 ? 1 : 0;
                    failed += page.Messages.Length > 0 ? 0 : 1;
                }

                await reader.ListConversationsAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);
                ok++;
                if (round++ % 4 == 0)
                {
                    // A device coming online catches up (SyncAll) while nothing can be written.
                    var fresh = ScenarioSetup.ClientOptions(broker, readerToken, false, options.RequestTimeout);
                    fresh.SyncOnConnect = true;
                    await using var device = await WrenClient.ConnectAsync(fresh, CancellationToken.None).ConfigureAwait(false);
                    ok++;
                }
            }
            catch (Exception ex) when (ex is WrenClientException or TimeoutException or IOException)
            {
                failed++;
                log($"read while full failed: {ex.GetType().Name}: {ex.Message}");
            }

            try
            {
                await Task.Delay(200, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return (ok, failed);
    }

    /// <summary>Sends a probe every 100 ms until one is acknowledged; false after the timeout.</summary>
    private static async Task<bool> ProbeUntilAcceptedAsync(
        WrenClient client, ulong conversation, string prefix, System.Collections.Concurrent.ConcurrentBag<ScenarioSend> sends, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var n = 0;
        while (clock.Elapsed < timeout)
        {
            var body = new byte[32];
            Random.Shared.NextBytes(body);
            var probe = new ScenarioSend($"{prefix}-{n++}", 0, conversation, body, Stopwatch.GetTimestamp());
            sends.Add(probe);
            try
            {
                probe.Acknowledged(await client.SendAsync(conversation, body, probe.ClientMsgId, cancellationToken).ConfigureAwait(false));
                return true;
            }
            catch (WrenClientException ex) when (ex.Code == ErrorCode.StorageUnavailable)
            {
                probe.Failed(ex);
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        return false;
    }

    private static void Problem(DiskFullReport report, string problem)
    {
        lock (report.Problems)
        {
            if (report.Problems.Count < 20)
            {
                report.Problems.Add(problem);
            }
        }
    }
}
