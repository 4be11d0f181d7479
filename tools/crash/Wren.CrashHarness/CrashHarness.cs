using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Security.Authentication;
using Wren.Client;
using Wren.Protocol.Messages;

namespace Wren.CrashHarness;

/// <summary>
/// kill -9 under load: starts the broker as a child process, drives it with SDK clients at a steady rate, SIGKILLs and
/// restarts it at random intervals, and finally reads every conversation back from a fresh device and compares it with
/// every acknowledgement the clients received.
/// </summary>
/// <remarks>
/// Run order: start → create users, tokens and groups over the wire with the admin token → load with kills → stop the
/// load → one last kill and restart → wait for the clients' pending sends → read back and check. After each restart a
/// probe measures how long until a write is accepted, and a sample of already-acknowledged messages is re-sent with
/// their original ids (each must come back Duplicate with its original seq).
/// </remarks>
public static class CrashHarness
{
    private const int MaxProblems = 20;

    /// <summary>Runs the scenario and returns the report; the broker processes are gone when it returns.</summary>
    public static async Task<CrashReport> RunAsync(CrashOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var seed = options.Seed ?? Random.Shared.Next();
        var run = new Run(options, seed, cancellationToken);
        try
        {
            return await run.ExecuteAsync().ConfigureAwait(false);
        }
        finally
        {
            await run.DisposeAsync().ConfigureAwait(false);
        }
    }

    private sealed class Run(CrashOptions options, int seed, CancellationToken cancellationToken) : IAsyncDisposable
    {
        private readonly Random _random = new(seed);
        private readonly string _runId = "r" + seed.ToString("x8", CultureInfo.InvariantCulture);
        private readonly string _dataDirectory = options.DataDirectory
            ?? Path.Combine(Path.GetTempPath(), "wren-crash-" + Guid.NewGuid().ToString("N")[..12]);
        private readonly Ledger _ledger = new();
        private readonly List<LoadClient> _clients = [];
        private readonly List<ulong> _conversations = [];
        private readonly CrashReport _report = new()
        {
            Mode = options.AckBeforeDurable ? "ack-before-durable" : "durable",
            Fault = options.Fault == FaultMode.Pause ? "pause" : "kill",
            Seed = seed,
            Clients = options.Clients,
            Rate = options.Rate,
            Conversations = options.Conversations,
            DurationSeconds = options.Duration.TotalSeconds,
        };

        private BrokerProcess? _broker;
        private string _probeToken = "";
        private string _verifierToken = "";
        private int _probes;
        private CursorReader? _reader;

        public async Task<CrashReport> ExecuteAsync()
        {
            _broker = new BrokerProcess(options.BrokerPath, _dataDirectory, options.AckBeforeDurable, BrokerArguments(), ownSession: options.Fault == FaultMode.Pause);
            await _broker.StartAsync(options.AcceptTimeout, cancellationToken).ConfigureAwait(false);
            Log($"broker on 127.0.0.1:{_broker.Port}, data in {_dataDirectory}, mode {_report.Mode}, seed {seed}");
            await SetUpAsync().ConfigureAwait(false);

            using var loadStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var load = _clients.Select(c => c.RunAsync(options.Rate, loadStop.Token)).ToArray();
            var clock = Stopwatch.StartNew();
            while (true)
            {
                var jitter = options.KillJitter * ((2 * _random.NextDouble()) - 1);
                var next = options.KillEvery + jitter;
                if (clock.Elapsed + next >= options.Duration)
                {
                    var rest = options.Duration - clock.Elapsed;
                    if (rest > TimeSpan.Zero)
                    {
                        await Task.Delay(rest, cancellationToken).ConfigureAwait(false);
                    }

                    break;
                }

                await Task.Delay(next, cancellationToken).ConfigureAwait(false);
                await FaultAsync().ConfigureAwait(false);
                await ResendSampleAsync().ConfigureAwait(false);
            }

            await loadStop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(load).ConfigureAwait(false);
            IsLoadStopped = true;
            Log($"load stopped after {clock.Elapsed.TotalSeconds:0.0} s; final {_report.Fault}");

            // One more fault with the load stopped: the last acknowledgements are checked after a restart (or resume) too.
            await FaultAsync().ConfigureAwait(false);
            await DrainAsync().ConfigureAwait(false);
            await VerifyAsync().ConfigureAwait(false);
            await CheckReaderAsync().ConfigureAwait(false);
            _report.ClientReconnects = _clients.Sum(c => c.Client.Reconnects);
            _report.ClientIdleDrops = _clients.Sum(c => c.Client.IdleDrops);

            _report.SkippedTicks = _clients.Sum(c => c.Skipped);
            _report.BrokerWarnings = _broker.Warnings;
            _report.BrokerErrors = _broker.Errors;
            _report.BrokerLogSamples = [.. _broker.Samples];
            return _report;
        }

        public async ValueTask DisposeAsync()
        {
            if (_reader is not null)
            {
                await _reader.DisposeAsync().ConfigureAwait(false);
            }

            foreach (var client in _clients)
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }

            if (_broker is not null)
            {
                await _broker.DisposeAsync().ConfigureAwait(false);
            }

            if (options.DataDirectory is null && !options.KeepData)
            {
                try
                {
                    Directory.Delete(_dataDirectory, recursive: true);
                }
                catch (IOException)
                {
                    // Left behind in the temp directory.
                }
            }
        }

        /// <summary>Users, tokens and groups, created over the wire with the bootstrap admin token.</summary>
        private async Task SetUpAsync()
        {
            var adminToken = (await File.ReadAllTextAsync(Path.Combine(_dataDirectory, "admin.token"), cancellationToken).ConfigureAwait(false)).Trim();
            var tokens = new string[options.Clients];
            var userIds = new List<ulong>();
            await using (var admin = await WrenClient.ConnectAsync(ClientOptions(adminToken, reconnect: false), cancellationToken).ConfigureAwait(false))
            {
                var probeUser = _runId + "-probe";
                await admin.AdminCreateUserAsync(probeUser, cancellationToken: cancellationToken).ConfigureAwait(false);
                _probeToken = (await admin.AdminIssueTokenAsync(probeUser, "probe", cancellationToken: cancellationToken).ConfigureAwait(false)).Token;
                _verifierToken = (await admin.AdminIssueTokenAsync(probeUser, "verifier", cancellationToken: cancellationToken).ConfigureAwait(false)).Token;
                for (var i = 0; i < options.Clients; i++)
                {
                    var name = $"{_runId}-u{i}";
                    userIds.Add((await admin.AdminCreateUserAsync(name, cancellationToken: cancellationToken).ConfigureAwait(false)).UserId);
                    tokens[i] = (await admin.AdminIssueTokenAsync(name, "load", cancellationToken: cancellationToken).ConfigureAwait(false)).Token;
                }
            }

            await using (var owner = await WrenClient.ConnectAsync(ClientOptions(_probeToken, reconnect: false), cancellationToken).ConfigureAwait(false))
            {
                for (var c = 0; c < options.Conversations; c++)
                {
                    var group = await owner.CreateGroupAsync($"crash-{c}", userIds, cancellationToken).ConfigureAwait(false);
                    _conversations.Add(group.ConversationId);
                }
            }

            for (var i = 0; i < options.Clients; i++)
            {
                _clients.Add(await LoadClient.ConnectAsync(
                    i, ClientOptions(tokens[i], reconnect: true), _ledger, _conversations, _runId, options.BodyBytes,
                    options.MaxInFlightPerClient, _random.Next(), cancellationToken).ConfigureAwait(false));
            }

            if (options.Fault == FaultMode.Pause)
            {
                string readerToken;
                await using (var admin = await WrenClient.ConnectAsync(ClientOptions(adminToken, reconnect: false), cancellationToken).ConfigureAwait(false))
                {
                    readerToken = (await admin.AdminIssueTokenAsync(_runId + "-probe", "reader", cancellationToken: cancellationToken).ConfigureAwait(false)).Token;
                }

                var readerOptions = ClientOptions(readerToken, reconnect: true);
                readerOptions.SyncOnConnect = true;
                _reader = await CursorReader.ConnectAsync(readerOptions, cancellationToken).ConfigureAwait(false);
            }

            Log($"{options.Clients} clients connected, {options.Conversations} conversations" + (_reader is null ? "" : ", 1 reading device"));
        }

        private WrenClientOptions ClientOptions(string token, bool reconnect) => new()
        {
            Host = "127.0.0.1",
            Port = _broker!.Port,
            Token = token,
            PinnedFingerprint = _broker.Fingerprint,
            AutoReconnect = reconnect,
            // Load clients only send: no catch-up and no live pushes, so the broker's work is the writes under test.
            SyncOnConnect = false,
            MinReconnectDelay = TimeSpan.FromMilliseconds(50),
            MaxReconnectDelay = TimeSpan.FromSeconds(1),
            RequestTimeout = reconnect ? options.EffectiveRequestTimeout : TimeSpan.FromSeconds(5),
        };

        private List<string> BrokerArguments()
        {
            var arguments = new List<string>();
            if (options.EffectivePingInterval is { } ping)
            {
                arguments.Add("--Wren:Limits:PingInterval=" + ping.ToString("c", CultureInfo.InvariantCulture));
            }

            if (options.EffectiveIdleTimeout is { } idle)
            {
                arguments.Add("--Wren:Limits:IdleTimeout=" + idle.ToString("c", CultureInfo.InvariantCulture));
            }

            return arguments;
        }

        private Task FaultAsync() => options.Fault == FaultMode.Pause ? PauseAndResumeAsync() : KillAndRestartAsync();

        /// <summary>SIGSTOP for a random time in [PauseMin, PauseMax], SIGCONT, then measure until writes are accepted again.</summary>
        private async Task PauseAndResumeAsync()
        {
            var pause = options.PauseMin + ((options.PauseMax - options.PauseMin) * _random.NextDouble());
            var dropsBefore = _clients.Sum(c => c.Client.IdleDrops);
            await _broker!.PauseAsync().ConfigureAwait(false);
            _report.Pauses++;
            var stopped = Stopwatch.GetTimestamp();
            var inFlight = 0;
            try
            {
                // Watch that the broker stays stopped; if something continued it, stop it again and count it.
                var interrupted = false;
                while (Stopwatch.GetElapsedTime(stopped) < pause)
                {
                    var left = pause - Stopwatch.GetElapsedTime(stopped);
                    if (left <= TimeSpan.Zero)
                    {
                        break;
                    }

                    await Task.Delay(left < TimeSpan.FromMilliseconds(100) ? left : TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
                    if (_broker.IsStopped() == false)
                    {
                        interrupted = true;
                        await _broker.PauseAsync().ConfigureAwait(false);
                    }
                }

                if (interrupted)
                {
                    _report.PausesInterrupted++;
                    Log($"pause {_report.Pauses}: the broker was continued by someone else during the pause; stopped it again");
                }

                // Everything waiting now (sent before or during the pause) must resolve once after the SIGCONT.
                inFlight = _ledger.MarkInFlight();
            }
            finally
            {
                await _broker.ResumeAsync().ConfigureAwait(false);
            }

            var resumed = Stopwatch.GetTimestamp();
            var paused = Stopwatch.GetElapsedTime(stopped, resumed).TotalSeconds;
            _report.PauseSeconds.Add(Math.Round(paused, 2));
            var dropped = _clients.Sum(c => c.Client.IdleDrops) - dropsBefore;
            await ProbeUntilAcceptedAsync().ConfigureAwait(false);
            var toAccept = Stopwatch.GetElapsedTime(resumed).TotalMilliseconds;
            _report.TimeToAcceptMs.Add(Math.Round(toAccept, 1));
            _report.MaxTimeToAcceptMs = Math.Max(_report.MaxTimeToAcceptMs, Math.Round(toAccept, 1));

            // Every load client writing again: its first ack after the SIGCONT (only while the load runs).
            var allWriting = "";
            if (_clients.Count > 0 && _clients.All(c => c.LastAckTimestamp > 0) && !IsLoadStopped)
            {
                var deadline = Stopwatch.StartNew();
                while (_clients.Any(c => c.LastAckTimestamp < resumed) && deadline.Elapsed < options.AcceptTimeout)
                {
                    await Task.Delay(20, cancellationToken).ConfigureAwait(false);
                }

                if (_clients.Any(c => c.LastAckTimestamp < resumed))
                {
                    Problem($"pause {_report.Pauses}: a load client got no ack within {options.AcceptTimeout.TotalSeconds:0} s of the SIGCONT");
                }
                else
                {
                    var all = Stopwatch.GetElapsedTime(resumed).TotalMilliseconds;
                    _report.MaxResumeToAllClientsMs = Math.Max(_report.MaxResumeToAllClientsMs, Math.Round(all, 1));
                    allWriting = $", every load client acknowledged again after {all:0} ms";
                }
            }

            Log($"pause {_report.Pauses}: {paused:0.0} s, {inFlight} sends waiting at the SIGCONT, {dropped} client connections dropped as idle during the pause; " +
                $"writes accepted {toAccept:0} ms after the SIGCONT{allWriting}");
        }

        private bool IsLoadStopped { get; set; }

        /// <summary>The reading device must have every stored entry, each once and in order, resumed across the pauses.</summary>
        private async Task CheckReaderAsync()
        {
            if (_reader is null)
            {
                return;
            }

            var deadline = Stopwatch.StartNew();
            while (_conversations.Any(c => _reader.Last(c) < _storedMax.GetValueOrDefault(c)) && deadline.Elapsed < options.DrainTimeout)
            {
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }

            _report.ReaderDelivered = _reader.Delivered;
            _report.ReaderGaps = _reader.Gaps;
            _report.ReaderRepeats = _reader.Repeats;
            _report.ReaderReconnects = _reader.Reconnects;
            _report.ReaderIdleDrops = _reader.IdleDrops;
            foreach (var conversation in _conversations)
            {
                var behind = _storedMax.GetValueOrDefault(conversation) - _reader.Last(conversation);
                if (behind > 0)
                {
                    _report.ReaderMissing += (int)behind;
                    Problem($"reading device: conversation {conversation} ends at seq {_reader.Last(conversation)}, the log at {_storedMax.GetValueOrDefault(conversation)}");
                }
            }

            if (_report.ReaderGaps + _report.ReaderRepeats > 0)
            {
                Problem($"reading device: {_report.ReaderGaps} gaps and {_report.ReaderRepeats} repeated seqs in what the SDK delivered");
            }
        }

        private readonly Dictionary<ulong, ulong> _storedMax = [];

        private async Task KillAndRestartAsync()
        {
            var killed = Stopwatch.GetTimestamp();
            await _broker!.KillAsync().ConfigureAwait(false);
            _report.Kills++;
            var inFlight = _ledger.MarkInFlight();
            var started = Stopwatch.GetTimestamp();
            await _broker.StartAsync(options.AcceptTimeout, cancellationToken).ConfigureAwait(false);
            await ProbeUntilAcceptedAsync().ConfigureAwait(false);
            var accepted = Stopwatch.GetTimestamp();
            var toAccept = Stopwatch.GetElapsedTime(started, accepted).TotalMilliseconds;
            var fromKill = Stopwatch.GetElapsedTime(killed, accepted).TotalMilliseconds;
            _report.TimeToAcceptMs.Add(Math.Round(toAccept, 1));
            _report.MaxTimeToAcceptMs = Math.Max(_report.MaxTimeToAcceptMs, Math.Round(toAccept, 1));
            _report.MaxKillToAcceptMs = Math.Max(_report.MaxKillToAcceptMs, Math.Round(fromKill, 1));
            Log($"kill {_report.Kills}: {inFlight} sends in flight; writes accepted {toAccept:0} ms after the restart ({fromKill:0} ms after the kill)");
        }

        /// <summary>Connects a fresh probe device and sends until one write is acknowledged.</summary>
        private async Task ProbeUntilAcceptedAsync()
        {
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                SendRecord? record = null;
                try
                {
                    await using var probe = await WrenClient.ConnectAsync(ClientOptions(_probeToken, reconnect: false), cancellationToken).ConfigureAwait(false);
                    var body = new byte[options.BodyBytes];
                    _random.NextBytes(body);
                    record = _ledger.Add(new SendRecord($"{_runId}-p{++_probes}", -1, _conversations[0], body));
                    record.Acknowledged(await probe.SendAsync(record.ConversationId, body, record.ClientMsgId, cancellationToken).ConfigureAwait(false));
                    return;
                }
                catch (Exception ex) when (ex is WrenClientException or IOException or SocketException or AuthenticationException or TimeoutException
                    || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
                {
                    record?.Failed(ex.GetType().Name + ": " + ex.Message);
                    if (deadline.Elapsed > options.AcceptTimeout)
                    {
                        throw new TimeoutException($"No write was accepted within {options.AcceptTimeout.TotalSeconds:0} s of the restart.", ex);
                    }

                    await Task.Delay(50, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        /// <summary>Re-sends acknowledged messages with their original ids: each must be answered Duplicate with its original seq.</summary>
        private async Task ResendSampleAsync()
        {
            var acked = _ledger.Records.Where(r => r.Client >= 0 && r.Ack is not null).ToList();
            if (acked.Count == 0 || options.ResendSample == 0)
            {
                return;
            }

            var sample = Enumerable.Range(0, Math.Min(options.ResendSample, acked.Count))
                .Select(_ => acked[_random.Next(acked.Count)])
                .DistinctBy(r => r.ClientMsgId)
                .ToList();
            var results = await Task.WhenAll(sample.Select(ResendOneAsync)).ConfigureAwait(false);
            foreach (var problem in results)
            {
                _report.ResendsChecked++;
                if (problem is null)
                {
                    _report.ResendsOriginalSeq++;
                }
                else
                {
                    _report.ResendMismatches++;
                    Problem(problem);
                }
            }
        }

        private async Task<string?> ResendOneAsync(SendRecord record)
        {
            var original = record.Ack!;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.AcceptTimeout);
            try
            {
                var ack = await _clients[record.Client].ResendAsync(record, timeout.Token).ConfigureAwait(false);
                return ack.Duplicate && ack.ConversationId == original.ConversationId && ack.Seq == original.Seq
                    ? null
                    : $"re-send of acknowledged {record.ClientMsgId} (seq {original.Seq}) answered seq {ack.Seq}, duplicate {ack.Duplicate}";
            }
            catch (Exception ex) when (ex is WrenClientException or OperationCanceledException or InvalidOperationException)
            {
                return $"re-send of acknowledged {record.ClientMsgId} (seq {original.Seq}) failed: {ex.GetType().Name}: {ex.Message}";
            }
        }

        /// <summary>Waits for every client's sends to be acknowledged (the SDK resends after reconnecting).</summary>
        private async Task DrainAsync()
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.DrainTimeout);
            try
            {
                await Task.WhenAll(_clients.Select(c => c.DrainAsync(timeout.Token))).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                Problem($"{_clients.Sum(c => c.PendingSends)} sends still unacknowledged {options.DrainTimeout.TotalSeconds:0} s after the last restart");
            }
        }

        /// <summary>Reads every conversation from a fresh device and compares it with the ledger.</summary>
        private async Task VerifyAsync()
        {
            await using var verifier = await WrenClient.ConnectAsync(ClientOptions(_verifierToken, reconnect: false), cancellationToken).ConfigureAwait(false);
            var positions = new Dictionary<string, List<(ulong Conversation, ulong Seq)>>(StringComparer.Ordinal);
            foreach (var conversation in _conversations)
            {
                var entries = new List<Deliver>();
                ulong before = 0;
                while (true)
                {
                    var page = await verifier.HistoryAsync(conversation, before, 0, cancellationToken).ConfigureAwait(false);
                    entries.AddRange(page.Messages);
                    if (!page.More || page.Messages.Length == 0)
                    {
                        break;
                    }

                    before = page.Messages[0].Seq;
                }

                entries.Sort((a, b) => a.Seq.CompareTo(b.Seq));
                _storedMax[conversation] = entries.Count == 0 ? 0 : entries[^1].Seq;
                _report.StoredEntries += entries.Count;
                ulong expected = 1;
                foreach (var entry in entries)
                {
                    if (entry.Seq != expected)
                    {
                        var missing = entry.Seq > expected ? (int)Math.Min(entry.Seq - expected, int.MaxValue) : 1;
                        _report.SeqGaps += missing;
                        Problem($"conversation {conversation}: seq {entry.Seq} where {expected} was expected");
                    }

                    expected = entry.Seq + 1;
                    if (!positions.TryGetValue(entry.ClientMsgId, out var list))
                    {
                        positions[entry.ClientMsgId] = list = [];
                    }

                    list.Add((conversation, entry.Seq));
                    var record = _ledger.Find(entry.ClientMsgId);
                    if (record is null)
                    {
                        _report.Unexpected++;
                        Problem($"conversation {conversation} seq {entry.Seq}: id {entry.ClientMsgId} was never sent");
                    }
                    else if (record.ConversationId != conversation || SendRecord.Hash(entry.Body) != record.BodyHash)
                    {
                        _report.Unexpected++;
                        Problem($"conversation {conversation} seq {entry.Seq}: id {entry.ClientMsgId} holds another conversation or body than was sent");
                    }
                }
            }

            foreach (var (id, list) in positions)
            {
                if (list.Count > 1)
                {
                    _report.Duplicated += list.Count - 1;
                    Problem($"id {id} stored {list.Count} times: {string.Join(", ", list.Select(p => $"{p.Conversation}:{p.Seq}"))}");
                }
            }

            foreach (var record in _ledger.Records)
            {
                _report.Sent++;
                var stored = positions.GetValueOrDefault(record.ClientMsgId);
                if (record.Ack is { } ack)
                {
                    _report.Acknowledged++;
                    var atAck = stored?.Contains((ack.ConversationId, ack.Seq)) == true;
                    if (!atAck)
                    {
                        _report.Lost++;
                        if (stored is not null)
                        {
                            _report.LostButStoredElsewhere++;
                        }

                        Problem($"lost: {record.ClientMsgId} acknowledged at {ack.ConversationId}:{ack.Seq}" + (stored is null ? "" : ", stored at " + string.Join(", ", stored.Select(p => $"{p.Conversation}:{p.Seq}"))));
                    }

                    if (record.InFlightAtKill && atAck && stored!.Count == 1)
                    {
                        _report.RetriesResolved++;
                        if (ack.Duplicate)
                        {
                            _report.RetriesResolvedToOriginalSeq++;
                        }
                    }
                }
                else
                {
                    if (record.Error is not null)
                    {
                        _report.SendErrors++;
                    }

                    if (record.InFlightAtKill)
                    {
                        _report.RetriesUnresolved++;
                    }

                    if (stored is not null)
                    {
                        _report.Recovered++;
                    }
                    else
                    {
                        _report.NotStored++;
                    }
                }

                if (record.InFlightAtKill)
                {
                    _report.InFlightAtKill++;
                }
            }
        }

        private void Problem(string problem)
        {
            lock (_report.Problems)
            {
                if (_report.Problems.Count < MaxProblems)
                {
                    _report.Problems.Add(problem);
                }
            }
        }

        private void Log(string line) => options.Log?.WriteLine($"[crash {DateTime.Now:HH:mm:ss}] {line}");
    }
}
