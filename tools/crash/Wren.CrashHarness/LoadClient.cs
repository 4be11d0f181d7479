using System.Diagnostics;
using Wren.Client;

namespace Wren.CrashHarness;

/// <summary>
/// One device sending at a steady rate to the run's conversations (open loop: a send is issued every tick whether or
/// not earlier ones were acknowledged). Through kills the SDK reconnects and resends unacknowledged sends with their ids.
/// </summary>
internal sealed class LoadClient : IAsyncDisposable
{
    private readonly int _index;
    private readonly WrenClient _client;
    private readonly Ledger _ledger;
    private readonly IReadOnlyList<ulong> _conversations;
    private readonly string _runId;
    private readonly int _bodyBytes;
    private readonly int _maxInFlight;
    private readonly Random _random;
    private readonly List<Task> _sends = [];
    private readonly Lock _lock = new();
    private int _inFlight;
    private int _skipped;
    private long _next;
    private long _lastAck;

    private LoadClient(int index, WrenClient client, Ledger ledger, IReadOnlyList<ulong> conversations, string runId, int bodyBytes, int maxInFlight, int seed)
    {
        _index = index;
        _client = client;
        _ledger = ledger;
        _conversations = conversations;
        _runId = runId;
        _bodyBytes = bodyBytes;
        _maxInFlight = maxInFlight;
        _random = new Random(seed);
        _ = DrainEventsAsync(client);
    }

    public int Skipped => Volatile.Read(ref _skipped);

    public int PendingSends => _client.PendingSends;

    /// <summary>Stopwatch timestamp of the last SendAck this client received (0 before the first).</summary>
    public long LastAckTimestamp => Interlocked.Read(ref _lastAck);

    public WrenClient Client => _client;

    public static async Task<LoadClient> ConnectAsync(
        int index, WrenClientOptions options, Ledger ledger, IReadOnlyList<ulong> conversations, string runId, int bodyBytes, int maxInFlight, int seed,
        CancellationToken cancellationToken)
    {
        var client = await WrenClient.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
        return new LoadClient(index, client, ledger, conversations, runId, bodyBytes, maxInFlight, seed);
    }

    /// <summary>Sends at <paramref name="rate"/> per second until cancelled; ticks are scheduled from the start time, so pauses do not lower the rate.</summary>
    public async Task RunAsync(double rate, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var period = TimeSpan.FromSeconds(1 / rate);
        long tick = 0;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var due = period * tick;
                var wait = due - clock.Elapsed;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
                }

                tick++;
                if (Volatile.Read(ref _inFlight) >= _maxInFlight)
                {
                    Interlocked.Increment(ref _skipped);
                    continue;
                }

                SendOne();
            }
        }
        catch (OperationCanceledException)
        {
            // The load phase ended.
        }
    }

    /// <summary>Re-sends an acknowledged message with its original id and body.</summary>
    public async Task<Wren.Protocol.Messages.SendAck> ResendAsync(SendRecord record, CancellationToken cancellationToken) =>
        await _client.SendAsync(record.ConversationId, record.Body, record.ClientMsgId, cancellationToken).ConfigureAwait(false);

    /// <summary>Waits until every send of this client has completed (acknowledged or failed), or the token fires.</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        Task[] sends;
        lock (_lock)
        {
            sends = [.. _sends];
        }

        await Task.WhenAll(sends).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync() => await _client.DisposeAsync().ConfigureAwait(false);

    private void SendOne()
    {
        var n = Interlocked.Increment(ref _next);
        var conversation = _conversations[_random.Next(_conversations.Count)];
        var id = $"{_runId}-c{_index}-{n}";
        var body = new byte[_bodyBytes];
        _random.NextBytes(body);
        var record = _ledger.Add(new SendRecord(id, _index, conversation, body));
        Interlocked.Increment(ref _inFlight);
        var task = SendAndRecordAsync(record);
        lock (_lock)
        {
            _sends.Add(task);
        }
    }

    private async Task SendAndRecordAsync(SendRecord record)
    {
        try
        {
            var ack = await _client.SendAsync(record.ConversationId, record.Body, record.ClientMsgId).ConfigureAwait(false);
            record.Acknowledged(ack);
            Interlocked.Exchange(ref _lastAck, Stopwatch.GetTimestamp());
        }
        catch (Exception ex) when (ex is WrenClientException or OperationCanceledException or InvalidOperationException or IOException)
        {
            record.Failed(ex.GetType().Name + ": " + ex.Message);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private static async Task DrainEventsAsync(WrenClient client)
    {
        try
        {
            await foreach (var _ in client.Events.ReadAllAsync().ConfigureAwait(false))
            {
                // Pushes (presence, GoAway) are not checked here; reading them keeps the channel empty.
            }
        }
        catch (Exception ex) when (ex is WrenClientException or OperationCanceledException)
        {
            // The client ended.
        }
    }
}
