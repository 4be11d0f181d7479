using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using HdrHistogram;
using Wren.Client;
using Wren.Protocol;
using Wren.Protocol.Messages;

namespace Wren.CrashHarness;

/// <summary>What the slow-consumer scenario runs.</summary>
public sealed class SlowConsumerOptions
{
    /// <summary>Path of the built broker (<c>Wren.Broker.dll</c>).</summary>
    public string BrokerPath { get; set; } = "";

    /// <summary>Busy groups. Default 10.</summary>
    public int Groups { get; set; } = 10;

    /// <summary>Chatting members per group (one SDK device each, sending and receiving). Default 4.</summary>
    public int MembersPerGroup { get; set; } = 4;

    /// <summary>Sends per second per chatting device (open loop). Default 5: 200 msg/s over 10 groups of 4.</summary>
    public double Rate { get; set; } = 5;

    /// <summary>Message body size. Default 16 KiB, so a stalled device's queue passes the limit within seconds.</summary>
    public int BodyBytes { get; set; } = 16 * 1024;

    /// <summary>Devices that stop reading, each of its own user, a member of one busy group (spread evenly). Default 100.</summary>
    public int SlowConnections { get; set; } = 100;

    /// <summary>Receive buffer of a stalled device's socket. Default 16 KiB, so the broker's queue, not the socket, fills.</summary>
    public int SlowReceiveBufferBytes { get; set; } = 16 * 1024;

    /// <summary>Length of each phase (baseline, then with the stalled devices). Default 30 s.</summary>
    public TimeSpan PhaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The broker's <c>Wren:Limits:MaxPendingOutboundBytes</c>; null for its default (4 MiB). The negative control sets
    /// it so high that nobody is cut off.
    /// </summary>
    public int? BrokerOutboundLimit { get; set; }

    /// <summary>
    /// The outbound limit the memory bound is computed from (the bound is a property of the check, not of the broker's
    /// configuration, so the negative control is held to the same bound). Default 4 MiB. The bound is 2 × this per
    /// stalled device plus <see cref="MemorySlackMiB"/>: a connection's queue holds up to the limit, and its writer may
    /// already have copied up to as much again into the transport's pipe (Deliver frames are shared between sessions
    /// in the queue, not in the pipe).
    /// </summary>
    public int ExpectedOutboundLimit { get; set; } = 4 * 1024 * 1024;

    /// <summary>Slack added to the memory bound for the runtime's own growth. Default 96 MiB.</summary>
    public int MemorySlackMiB { get; set; } = 96;

    /// <summary>When positive, the run fails if the others' p99 with stalled devices exceeds this multiple of the baseline p99. Default 0 (reported only).</summary>
    public double MaxP99Ratio { get; set; }

    /// <summary>Measure the baseline phase (and warm up before it). Default true; false skips both (latency is then not compared).</summary>
    public bool MeasureBaseline { get; set; } = true;

    /// <summary>Reconnect every stalled device at the end and check its catch-up. Default true.</summary>
    public bool CheckCatchUp { get; set; } = true;

    /// <summary>
    /// How long after the load stops the harness waits for every stalled device to be disconnected (the broker gives a
    /// closing connection 5 s to take its final frames). Default 10 s.
    /// </summary>
    public TimeSpan CutOffWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Stalled devices reconnecting at once for the catch-up check. Default 10.</summary>
    public int CatchUpParallelism { get; set; } = 10;

    /// <summary>Seed (names only; the load is deterministic). Default: random (reported).</summary>
    public int? Seed { get; set; }

    /// <summary>Where progress lines go; null for none.</summary>
    public TextWriter? Log { get; set; }

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(BrokerPath) || !File.Exists(BrokerPath))
        {
            throw new ArgumentException($"The broker dll '{BrokerPath}' does not exist; build Broker/Wren.Broker first.", nameof(BrokerPath));
        }

        if (Groups < 1 || MembersPerGroup < 2 || Rate <= 0 || BodyBytes < 16 || SlowConnections < 0 || PhaseDuration <= TimeSpan.Zero || CatchUpParallelism < 1)
        {
            throw new ArgumentException("Groups, Rate, PhaseDuration, CatchUpParallelism must be positive, MembersPerGroup at least 2, BodyBytes at least 16.");
        }
    }
}

/// <summary>The outcome of a slow-consumer run.</summary>
public sealed class SlowConsumerReport
{
    /// <summary>"limit" (the broker's outbound limit in force) or "no-limit" (the negative control).</summary>
    public string Mode { get; set; } = "limit";

    /// <summary>Seed.</summary>
    public int Seed { get; set; }

    /// <summary>The load, in words.</summary>
    public string Load { get; set; } = "";

    /// <summary>Seconds per phase.</summary>
    public double PhaseSeconds { get; set; }

    /// <summary>Broker outbound limit in force (bytes).</summary>
    public long OutboundLimit { get; set; }

    /// <summary>Stalled devices.</summary>
    public int SlowConnections { get; set; }

    /// <summary>Stalled devices whose connection the broker had closed (or reset) while they still read nothing, by the kernel's socket state.</summary>
    public int CutOff { get; set; }

    /// <summary>The stalled devices' socket states before they read anything (ESTABLISHED: still connected).</summary>
    public Dictionary<string, int> TcpStates { get; set; } = [];

    /// <summary>Stalled devices whose stream ended (end of stream or reset) when they finally read it.</summary>
    public int ClosedAtDrain { get; set; }

    /// <summary>Stalled devices that found Error{SlowConsumer} in what they read.</summary>
    public int SawSlowConsumerError { get; set; }

    /// <summary>Deliver frames the stalled devices had received (read at the drain), in all.</summary>
    public long SlowDelivered { get; set; }

    /// <summary>Broker resident memory (VmRSS) when the stalled devices had connected, MiB.</summary>
    public double RssBeforeMiB { get; set; }

    /// <summary>Largest VmRSS during the phase with stalled devices, MiB.</summary>
    public double RssPeakMiB { get; set; }

    /// <summary>VmRSS at the end of that phase, MiB.</summary>
    public double RssAfterMiB { get; set; }

    /// <summary>Broker VmRSS at the end of the baseline phase, MiB.</summary>
    public double RssBaselineMiB { get; set; }

    /// <summary>The bound the growth (peak − before) must stay within, MiB.</summary>
    public double MemoryBoundMiB { get; set; }

    /// <summary>Deliveries to chatting devices measured in the baseline phase.</summary>
    public long BaselineDeliveries { get; set; }

    /// <summary>Deliveries to chatting devices measured with the stalled devices.</summary>
    public long SlowPhaseDeliveries { get; set; }

    /// <summary>Latency (intended send time → delivery at a recipient) without stalled devices, ms.</summary>
    public double BaselineP50Ms { get; set; }

    /// <summary>Baseline p99, ms.</summary>
    public double BaselineP99Ms { get; set; }

    /// <summary>Baseline max, ms.</summary>
    public double BaselineMaxMs { get; set; }

    /// <summary>Latency with stalled devices, p50 ms.</summary>
    public double SlowP50Ms { get; set; }

    /// <summary>With stalled devices, p99 ms.</summary>
    public double SlowP99Ms { get; set; }

    /// <summary>With stalled devices, max ms.</summary>
    public double SlowMaxMs { get; set; }

    /// <summary>SlowP99 / BaselineP99.</summary>
    public double P99Ratio { get; set; }

    /// <summary>True when the ratio was checked against a goal and failed it.</summary>
    public bool P99RatioExceeded { get; set; }

    /// <summary>Chatting sends (both phases).</summary>
    public int Sent { get; set; }

    /// <summary>Of <see cref="Sent"/>: acknowledged.</summary>
    public int Acknowledged { get; set; }

    /// <summary>Sends that failed (error or no answer): failures.</summary>
    public int SendErrors { get; set; }

    /// <summary>Chatting devices whose connection was lost during the run (for example cut off as slow consumers themselves): failures.</summary>
    public int ChatDisconnects { get; set; }

    /// <summary>Acknowledged sends not stored at their acknowledged seq.</summary>
    public int Lost { get; set; }

    /// <summary>Extra stored copies of one client message id.</summary>
    public int Duplicated { get; set; }

    /// <summary>Stored entries never sent or not matching what was sent.</summary>
    public int Unexpected { get; set; }

    /// <summary>Missing seqs in the logs.</summary>
    public int SeqGaps { get; set; }

    /// <summary>Stalled devices that reconnected and caught up.</summary>
    public int CaughtUp { get; set; }

    /// <summary>Entries the reconnected devices received in all.</summary>
    public long CatchUpDelivered { get; set; }

    /// <summary>Entries of the server log a reconnected device never received.</summary>
    public long CatchUpLost { get; set; }

    /// <summary>Entries a reconnected device received more than once.</summary>
    public long CatchUpDuplicated { get; set; }

    /// <summary>Entries a reconnected device received that differ from the server log at that seq.</summary>
    public long CatchUpUnexpected { get; set; }

    /// <summary>Seconds the catch-up of every stalled device took.</summary>
    public double CatchUpSeconds { get; set; }

    /// <summary>True when the catch-up check was not run (<see cref="SlowConsumerOptions.CheckCatchUp"/> off).</summary>
    public bool CatchUpSkipped { get; set; }

    /// <summary>True when the broker exited during the run.</summary>
    public bool BrokerExited { get; set; }

    /// <summary>Error lines the broker logged.</summary>
    public int BrokerErrors { get; set; }

    /// <summary>True when every stalled device was cut off.</summary>
    public bool AllCutOff => CutOff == SlowConnections;

    /// <summary>True when memory growth with stalled devices stayed within the bound.</summary>
    public bool MemoryBounded => RssPeakMiB - RssBeforeMiB <= MemoryBoundMiB;

    /// <summary>The checks that failed, by name.</summary>
    public List<string> FailedChecks { get; set; } = [];

    /// <summary>True when every check passed.</summary>
    public bool Passed => FailedChecks.Count == 0;

    /// <summary>The first problems found.</summary>
    public List<string> Problems { get; set; } = [];

    /// <summary>The first warning and error lines of the broker.</summary>
    public List<string> BrokerLogSamples { get; set; } = [];

    internal void Decide(double maxRatio)
    {
        FailedChecks.Clear();
        if (!AllCutOff)
        {
            FailedChecks.Add($"cut off: {CutOff} of {SlowConnections} stalled devices");
        }

        if (!MemoryBounded)
        {
            FailedChecks.Add($"memory: grew {RssPeakMiB - RssBeforeMiB:0} MiB, bound {MemoryBoundMiB:0} MiB");
        }

        if (Lost + Duplicated + Unexpected + SeqGaps + SendErrors + ChatDisconnects > 0)
        {
            FailedChecks.Add($"sends: lost {Lost}, duplicated {Duplicated}, unexpected {Unexpected}, gaps {SeqGaps}, errors {SendErrors}, chatting devices disconnected {ChatDisconnects}");
        }

        if (CatchUpSkipped)
        {
            FailedChecks.Add("catch-up: not checked");
        }
        else if (CaughtUp != SlowConnections || CatchUpLost + CatchUpDuplicated + CatchUpUnexpected > 0)
        {
            FailedChecks.Add($"catch-up: {CaughtUp} of {SlowConnections} caught up, lost {CatchUpLost}, duplicated {CatchUpDuplicated}, unexpected {CatchUpUnexpected}");
        }

        P99RatioExceeded = maxRatio > 0 && P99Ratio > maxRatio;
        if (P99RatioExceeded)
        {
            FailedChecks.Add($"p99 ratio {P99Ratio:0.00} above {maxRatio:0.##}");
        }

        if (BrokerExited)
        {
            FailedChecks.Add("the broker exited");
        }
    }

    /// <inheritdoc/>
    public override string ToString() =>
            $"slow consumers, mode {Mode} (outbound limit {OutboundLimit / 1024} KiB), seed {Seed}: {Load}, {PhaseSeconds:0} s per phase\n" +
            $"stalled devices {SlowConnections}: cut off {CutOff} while not reading (socket states {string.Join(", ", TcpStates.Select(p => $"{p.Key} {p.Value}"))}); read afterwards: {ClosedAtDrain} streams ended, {SawSlowConsumerError} with Error SlowConsumer, {SlowDelivered} deliveries\n" +
            $"broker VmRSS: baseline end {RssBaselineMiB:0.0} MiB; with stalled devices before {RssBeforeMiB:0.0}, peak {RssPeakMiB:0.0}, after {RssAfterMiB:0.0} MiB (growth {RssPeakMiB - RssBeforeMiB:0.0}, bound {MemoryBoundMiB:0})\n" +
            $"others' latency baseline p50 {BaselineP50Ms:0.0} / p99 {BaselineP99Ms:0.0} / max {BaselineMaxMs:0.0} ms ({BaselineDeliveries} deliveries); " +
            $"with stalled p50 {SlowP50Ms:0.0} / p99 {SlowP99Ms:0.0} / max {SlowMaxMs:0.0} ms ({SlowPhaseDeliveries}); p99 ratio {P99Ratio:0.00}\n" +
            $"sends {Sent}, acknowledged {Acknowledged}, errors {SendErrors}, chatting devices disconnected {ChatDisconnects}; lost {Lost}, duplicated {Duplicated}, unexpected {Unexpected}, gaps {SeqGaps}\n" +
            $"catch-up: {CaughtUp} devices, {CatchUpDelivered} entries in {CatchUpSeconds:0.0} s, lost {CatchUpLost}, duplicated {CatchUpDuplicated}, unexpected {CatchUpUnexpected}; broker exited {BrokerExited}, errors {BrokerErrors}\n" +
            (Passed ? "PASSED" : "FAILED: " + string.Join("; ", FailedChecks));
}

/// <summary>
/// Slow consumers: chatting devices in busy groups at a fixed open-loop rate, first alone (baseline), then in other
/// groups of the same shape joined by devices that stop reading. Each stalled device must be cut off when its outbound
/// queue passes the limit, broker memory must stay bounded, the others' latency is compared with the baseline, and
/// every cut-off device must later reconnect and catch up without loss.
/// </summary>
/// <remarks>
/// The baseline and the stalled phase use different groups (same members, same rate, same body size) so the stalled
/// devices join groups with no history: they go live at once and their queues hold only live pushes. Each body starts
/// with the intended send time (Stopwatch ticks), so a recipient measures latency from when the send was due.
/// </remarks>
public static class SlowConsumerHarness
{
    /// <summary>Runs the scenario; the broker is gone when it returns.</summary>
    public static async Task<SlowConsumerReport> RunAsync(SlowConsumerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var seed = options.Seed ?? Random.Shared.Next();
        var runId = "s" + seed.ToString("x8", CultureInfo.InvariantCulture);
        var limit = options.BrokerOutboundLimit ?? 4 * 1024 * 1024;
        var report = new SlowConsumerReport
        {
            Mode = options.BrokerOutboundLimit is { } l && l > options.ExpectedOutboundLimit ? "no-limit" : "limit",
            Seed = seed,
            OutboundLimit = limit,
            SlowConnections = options.SlowConnections,
            PhaseSeconds = options.PhaseDuration.TotalSeconds,
            Load = string.Create(CultureInfo.InvariantCulture,
                $"{options.Groups} groups × {options.MembersPerGroup} chatting devices × {options.Rate:0.#} msg/s ({options.Groups * options.MembersPerGroup * options.Rate:0} msg/s), {options.BodyBytes / 1024.0:0.#} KiB bodies"),
            MemoryBoundMiB = Math.Round((2.0 * options.SlowConnections * options.ExpectedOutboundLimit / (1024 * 1024)) + options.MemorySlackMiB, 1),
        };
        void Log(string line) => options.Log?.WriteLine($"[slow {DateTime.Now:HH:mm:ss}] {line}");

        var data = Path.Combine(Path.GetTempPath(), "wren-slow-" + Guid.NewGuid().ToString("N")[..12]);
        var arguments = new List<string>();
        if (options.BrokerOutboundLimit is { } outbound)
        {
            arguments.Add("--Wren:Limits:MaxPendingOutboundBytes=" + outbound.ToString(CultureInfo.InvariantCulture));
        }

        var broker = new BrokerProcess(options.BrokerPath, data, ackBeforeDurable: false, arguments);
        var chat = new List<ChatDevice>();
        var stalled = new List<StalledDevice>();
        try
        {
            await broker.StartAsync(TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
            Log($"broker on 127.0.0.1:{broker.Port} (pid {broker.ProcessId}), outbound limit {limit / 1024} KiB, seed {seed}");

            // Users: chatting members (each in one baseline group and one stalled-phase group) and one user per stalled device.
            var chatCount = options.Groups * options.MembersPerGroup;
            var baselineGroups = new List<ulong>();
            var slowGroups = new List<ulong>();
            List<string[]> chatTokens;
            List<string[]> slowTokens;
            List<ulong> chatIds;
            var adminToken = await ScenarioSetup.AdminTokenAsync(data, cancellationToken).ConfigureAwait(false);
            await using (var admin = await WrenClient.ConnectAsync(ScenarioSetup.ClientOptions(broker, adminToken, false, TimeSpan.FromSeconds(30)), cancellationToken).ConfigureAwait(false))
            {
                (chatIds, chatTokens) = await ScenarioSetup.CreateUsersAsync(admin, runId + "c", chatCount, 1, cancellationToken).ConfigureAwait(false);
                (var slowIds, slowTokens) = await ScenarioSetup.CreateUsersAsync(admin, runId + "s", options.SlowConnections, 1, cancellationToken).ConfigureAwait(false);
                await using var owner = await WrenClient.ConnectAsync(ScenarioSetup.ClientOptions(broker, chatTokens[0][0], false, TimeSpan.FromSeconds(30)), cancellationToken).ConfigureAwait(false);
                for (var g = 0; g < options.Groups; g++)
                {
                    var members = chatIds.Skip(g * options.MembersPerGroup).Take(options.MembersPerGroup).ToList();
                    baselineGroups.Add((await owner.CreateGroupAsync($"base-{g}", members, cancellationToken).ConfigureAwait(false)).ConversationId);
                    members.AddRange(slowIds.Where((_, i) => i % options.Groups == g));
                    slowGroups.Add((await owner.CreateGroupAsync($"busy-{g}", members, cancellationToken).ConfigureAwait(false)).ConversationId);
                }
            }

            var baseline = new LatencyRecorder();
            var withSlow = new LatencyRecorder();
            LatencyRecorder? phase = null;
            for (var i = 0; i < chatCount; i++)
            {
                var options1 = ScenarioSetup.ClientOptions(broker, chatTokens[i][0], false, TimeSpan.FromSeconds(30));
                options1.SyncOnConnect = true;
                var client = await WrenClient.ConnectAsync(options1, cancellationToken).ConfigureAwait(false);
                chat.Add(new ChatDevice(i, chatIds[i], client, () => Volatile.Read(ref phase)));
            }

            var sends = new ConcurrentBag<ScenarioSend>();
            var pending = new TaskBag();
            if (options.MeasureBaseline)
            {
                var warmUp = TimeSpan.FromSeconds(Math.Clamp(options.PhaseDuration.TotalSeconds / 3, 2, 10));
                Log($"{chatCount} chatting devices live in {options.Groups} groups; warm-up for {warmUp.TotalSeconds:0} s (not measured), then baseline for {options.PhaseDuration.TotalSeconds:0} s");
                await RunPhaseAsync(chat, baselineGroups, warmUp, options, runId + "-w", sends, pending, cancellationToken).ConfigureAwait(false);
                Volatile.Write(ref phase, baseline);
                await RunPhaseAsync(chat, baselineGroups, options.PhaseDuration, options, runId + "-b", sends, pending, cancellationToken).ConfigureAwait(false);
                await Task.Delay(1000, cancellationToken).ConfigureAwait(false);
            }

            report.RssBaselineMiB = RssMiB(broker.ProcessId);

            // The stalled devices: live in the busy groups, then they read nothing.
            using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                connectTimeout.CancelAfter(TimeSpan.FromSeconds(120));
                for (var i = 0; i < options.SlowConnections; i++)
                {
                    stalled.Add(await StalledDevice.ConnectAsync(broker.Port, broker.Fingerprint, slowTokens[i][0], options.SlowReceiveBufferBytes, connectTimeout.Token).ConfigureAwait(false));
                }
            }

            Volatile.Write(ref phase, withSlow);
            report.RssBeforeMiB = RssMiB(broker.ProcessId);
            Log($"{options.SlowConnections} stalled devices live; VmRSS {report.RssBeforeMiB:0.0} MiB; same load in the busy groups for {options.PhaseDuration.TotalSeconds:0} s");
            using (var sampling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                var sampler = SampleRssAsync(broker.ProcessId, report, sampling.Token);
                await RunPhaseAsync(chat, slowGroups, options.PhaseDuration, options, runId + "-s", sends, pending, cancellationToken).ConfigureAwait(false);
                await Task.Delay(1000, cancellationToken).ConfigureAwait(false);
                await sampling.CancelAsync().ConfigureAwait(false);
                await sampler.ConfigureAwait(false);
            }

            report.RssAfterMiB = RssMiB(broker.ProcessId);
            Volatile.Write(ref phase, null);
            (report.BaselineP50Ms, report.BaselineP99Ms, report.BaselineMaxMs, report.BaselineDeliveries) = baseline.Summary();
            (report.SlowP50Ms, report.SlowP99Ms, report.SlowMaxMs, report.SlowPhaseDeliveries) = withSlow.Summary();
            report.P99Ratio = report.BaselineP99Ms > 0 ? Math.Round(report.SlowP99Ms / report.BaselineP99Ms, 2) : 0;

            // Cut off means the broker closed the connection while the device still read nothing: the kernel's state of
            // the device's socket says so without reading it. The load has stopped, so no queue grows any more; the
            // broker gives a closing connection a few seconds to take its final frame before it aborts it.
            var settle = Stopwatch.StartNew();
            while (settle.Elapsed < options.CutOffWait && stalled.Any(d => d.TcpState() == "ESTABLISHED"))
            {
                await Task.Delay(250, cancellationToken).ConfigureAwait(false);
            }

            foreach (var device in stalled)
            {
                var state = device.TcpState();
                report.TcpStates[state] = report.TcpStates.GetValueOrDefault(state) + 1;
                if (state is "CLOSE_WAIT" or "CLOSE" or "gone")
                {
                    report.CutOff++;
                }
            }

            using (var drainTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                drainTimeout.CancelAfter(TimeSpan.FromMinutes(3));
                await Task.WhenAll(stalled.Select(d => d.DrainAsync(TimeSpan.FromSeconds(1.5), drainTimeout.Token))).ConfigureAwait(false);
                foreach (var device in stalled)
                {
                    report.SlowDelivered += device.Delivered;
                    report.SawSlowConsumerError += device.Error == ErrorCode.SlowConsumer ? 1 : 0;
                    report.ClosedAtDrain += device.Closed ? 1 : 0;
                }
            }

            Log($"stalled devices: {report.CutOff} of {options.SlowConnections} cut off (socket states {string.Join(", ", report.TcpStates.Select(p => $"{p.Key} {p.Value}"))}); " +
                $"at the drain {report.ClosedAtDrain} closed, {report.SawSlowConsumerError} had Error SlowConsumer; " +
                $"first: {stalled.FirstOrDefault()?.Ending} after {stalled.FirstOrDefault()?.Delivered} deliveries, last error {stalled.FirstOrDefault()?.Error}");
            foreach (var device in stalled)
            {
                await device.DisposeAsync().ConfigureAwait(false);
            }

            stalled.Clear();
            using (var drain = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                drain.CancelAfter(TimeSpan.FromSeconds(60));
                await pending.WhenAll(drain.Token).ConfigureAwait(false);
            }

            var all = sends.ToList();
            report.Sent = all.Count;
            report.Acknowledged = all.Count(s => s.Ack is not null);
            report.SendErrors = all.Count(s => s.Ack is null);
            foreach (var device in chat.Where(d => d.Ended is not null))
            {
                report.ChatDisconnects++;
                report.Problems.Add($"chatting device {device.Index} lost its connection during the run: {device.Ended}");
            }

            foreach (var failed in all.Where(s => s.Ack is null).Take(3))
            {
                report.Problems.Add($"send {failed.ClientMsgId} failed: {failed.ErrorCode?.ToString() ?? failed.LocalError}");
            }

            report.BrokerExited = broker.HasExited;
            if (!report.BrokerExited)
            {
                await using var verifier = await WrenClient.ConnectAsync(ScenarioSetup.ClientOptions(broker, chatTokens[0][0], false, TimeSpan.FromSeconds(30)), cancellationToken).ConfigureAwait(false);
                var check = await HistoryCheck.RunAsync(verifier, [.. baselineGroups, .. slowGroups], all, cancellationToken).ConfigureAwait(false);
                report.Lost = check.Lost;
                report.Duplicated = check.Duplicated;
                report.Unexpected = check.Unexpected;
                report.SeqGaps = check.SeqGaps;
                report.Problems.AddRange(check.Problems);

                // Every stalled device reconnects and catches up: each must get its group's whole log, once, in order.
                if (!options.CheckCatchUp)
                {
                    report.CatchUpSkipped = true;
                    report.BrokerErrors = broker.Errors;
                    report.Decide(options.MaxP99Ratio);
                    return report;
                }

                var logs = new Dictionary<ulong, List<Deliver>>();
                foreach (var group in slowGroups)
                {
                    logs[group] = await HistoryCheck.ReadAllAsync(verifier, group, cancellationToken).ConfigureAwait(false);
                }

                var clock = Stopwatch.StartNew();
                using var gate = new SemaphoreSlim(options.CatchUpParallelism);
                var catchUps = Enumerable.Range(0, options.SlowConnections).Select(async i =>
                {
                    await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                    try
                    {
                        return await CatchUpAsync(broker, slowTokens[i][0], slowGroups[i % options.Groups], logs[slowGroups[i % options.Groups]], cancellationToken).ConfigureAwait(false);
                    }
                    finally
                    {
                        gate.Release();
                    }
                }).ToArray();
                foreach (var result in await Task.WhenAll(catchUps).ConfigureAwait(false))
                {
                    report.CaughtUp += result.Complete ? 1 : 0;
                    report.CatchUpDelivered += result.Delivered;
                    report.CatchUpLost += result.Lost;
                    report.CatchUpDuplicated += result.Duplicated;
                    report.CatchUpUnexpected += result.Unexpected;
                    if (result.Problem is { } problem && report.Problems.Count < 20)
                    {
                        report.Problems.Add(problem);
                    }
                }

                report.CatchUpSeconds = Math.Round(clock.Elapsed.TotalSeconds, 1);
                Log($"catch-up: {report.CaughtUp} devices, {report.CatchUpDelivered} entries in {report.CatchUpSeconds:0.0} s");
            }

            report.BrokerExited |= broker.HasExited;
            report.BrokerErrors = broker.Errors;
            report.BrokerLogSamples = [.. broker.ErrorSamples.Take(5).Concat(broker.Samples.Where(l => !l.Contains("Append refused", StringComparison.Ordinal)).Take(5)).Select(l => l.Length > 300 ? l[..300] + "…" : l)];
            report.Decide(options.MaxP99Ratio);
            return report;
        }
        finally
        {
            foreach (var device in stalled)
            {
                await device.DisposeAsync().ConfigureAwait(false);
            }

            foreach (var device in chat)
            {
                await device.DisposeAsync().ConfigureAwait(false);
            }

            await broker.DisposeAsync().ConfigureAwait(false);
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

    /// <summary>Every chatting device sends to its group at the configured rate for one phase.</summary>
    private static async Task RunPhaseAsync(
        List<ChatDevice> chat, List<ulong> groups, TimeSpan duration, SlowConsumerOptions options, string prefix, ConcurrentBag<ScenarioSend> sends,
        TaskBag pending, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stop.CancelAfter(duration);
        var counter = 0;
        var load = chat.Select(device => DiskFullHarness.LoadAsync(device.Index, options.Rate, () =>
        {
            var n = Interlocked.Increment(ref counter);
            var body = new byte[options.BodyBytes];
            var intended = Stopwatch.GetTimestamp();
            BinaryPrimitives.WriteInt64LittleEndian(body, intended);
            Random.Shared.NextBytes(body.AsSpan(8));
            var send = new ScenarioSend($"{prefix}-{device.Index}-{n}", device.Index, groups[device.Index / options.MembersPerGroup], body, intended);
            sends.Add(send);
            pending.Add(device.SendAsync(send));
            return send;
        }, stop.Token)).ToArray();
        await Task.WhenAll(load).ConfigureAwait(false);
    }

    private static async Task SampleRssAsync(int pid, SlowConsumerReport report, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                report.RssPeakMiB = Math.Max(report.RssPeakMiB, RssMiB(pid));
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Sampling ended with the phase.
        }
    }

    /// <summary>VmRSS of a process from /proc, MiB (0 when unknown).</summary>
    internal static double RssMiB(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var kb = long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
                    return Math.Round(kb / 1024.0, 1);
                }
            }
        }
        catch (IOException)
        {
            // The process is gone.
        }

        return 0;
    }

    /// <summary>A stalled device reconnects with the SDK (no local cursor: the server's) and reads until it has the whole log.</summary>
    private static async Task<CatchUpResult> CatchUpAsync(BrokerProcess broker, string token, ulong group, List<Deliver> log, CancellationToken cancellationToken)
    {
        var options = ScenarioSetup.ClientOptions(broker, token, false, TimeSpan.FromSeconds(60));
        options.SyncOnConnect = true;
        var head = log.Count == 0 ? 0 : log[^1].Seq;
        var received = new Dictionary<ulong, int>();
        long delivered = 0;
        long unexpected = 0;
        string? problem = null;
        await using var client = await WrenClient.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(120));
        try
        {
            while ((ulong)received.Count < head && await client.Events.WaitToReadAsync(timeout.Token).ConfigureAwait(false))
            {
                while (client.Events.TryRead(out var message))
                {
                    if (message is not Deliver deliver || deliver.ConversationId != group)
                    {
                        continue;
                    }

                    delivered++;
                    received[deliver.Seq] = received.GetValueOrDefault(deliver.Seq) + 1;
                    var expected = deliver.Seq >= 1 && deliver.Seq <= (ulong)log.Count ? log[(int)deliver.Seq - 1] : null;
                    if (expected is null || expected.ClientMsgId != deliver.ClientMsgId || !expected.Body.AsSpan().SequenceEqual(deliver.Body))
                    {
                        unexpected++;
                        problem ??= $"catch-up of group {group}: seq {deliver.Seq} differs from the server log";
                    }
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            problem ??= $"catch-up of group {group}: only {received.Count} of {head} entries within 120 s";
        }

        var lost = (long)head - received.Count;
        var duplicated = received.Values.Sum(c => (long)c - 1);
        return new CatchUpResult(lost == 0, delivered, lost, duplicated, unexpected, problem);
    }

    private sealed record CatchUpResult(bool Complete, long Delivered, long Lost, long Duplicated, long Unexpected, string? Problem);

    /// <summary>Intended-send-time to delivery latency of one phase (microseconds, HdrHistogram).</summary>
    private sealed class LatencyRecorder
    {
        private readonly LongHistogram _histogram = new(600_000_000, 3);
        private readonly Lock _lock = new();

        public void Record(long intendedTimestamp)
        {
            var micros = (long)Stopwatch.GetElapsedTime(intendedTimestamp).TotalMicroseconds;
            lock (_lock)
            {
                _histogram.RecordValue(Math.Clamp(micros, 0, 600_000_000));
            }
        }

        public (double P50, double P99, double Max, long Count) Summary()
        {
            lock (_lock)
            {
                return _histogram.TotalCount == 0
                    ? (0, 0, 0, 0)
                    : (_histogram.GetValueAtPercentile(50) / 1000.0, _histogram.GetValueAtPercentile(99) / 1000.0, _histogram.GetMaxValue() / 1000.0, _histogram.TotalCount);
            }
        }
    }

    /// <summary>A chatting device: sends through the SDK, receives its groups' messages live and records their latency.</summary>
    private sealed class ChatDevice : IAsyncDisposable
    {
        private readonly WrenClient _client;
        private readonly ulong _userId;
        private readonly Func<LatencyRecorder?> _phase;
        private readonly Task _reading;

        public ChatDevice(int index, ulong userId, WrenClient client, Func<LatencyRecorder?> phase)
        {
            Index = index;
            _userId = userId;
            _client = client;
            _phase = phase;
            _reading = ReadAsync();
        }

        public int Index { get; }

        public async Task SendAsync(ScenarioSend send)
        {
            try
            {
                send.Acknowledged(await _client.SendAsync(send.ConversationId, send.Body, send.ClientMsgId).ConfigureAwait(false));
            }
            catch (Exception ex) when (ex is WrenClientException or TimeoutException or OperationCanceledException or IOException or InvalidOperationException)
            {
                send.Failed(ex);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _client.DisposeAsync().ConfigureAwait(false);
            await _reading.ConfigureAwait(false);
        }

        private async Task ReadAsync()
        {
            try
            {
                await foreach (var message in _client.Events.ReadAllAsync().ConfigureAwait(false))
                {
                    if (message is Deliver deliver && deliver.SenderUserId != _userId && deliver.Body.Length >= 8)
                    {
                        _phase()?.Record(BinaryPrimitives.ReadInt64LittleEndian(deliver.Body));
                    }
                }
            }
            catch (Exception ex) when (ex is WrenClientException or OperationCanceledException)
            {
                // The client ended: by DisposeAsync at the end of the run, or because the connection was lost.
                Ended = ex.Message;
            }
        }

        /// <summary>Why the device's event stream ended early (its connection was lost), or null.</summary>
        public string? Ended { get; private set; }
    }
}
