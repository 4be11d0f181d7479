using Wren.Client;
using Wren.Protocol.Messages;

namespace Wren.CrashHarness;

/// <summary>
/// A receiving device (catch-up on connect, live pushes, auto-ack, AutoReconnect) that checks what the SDK hands it:
/// per conversation every seq from 1 exactly once and in order, across the reconnects the faults force. After a
/// reconnect it resumes from its cursors (the SDK's cursor store), so a gap or a repeat here means resuming failed.
/// </summary>
internal sealed class CursorReader : IAsyncDisposable
{
    private readonly WrenClient _client;
    private readonly Dictionary<ulong, ulong> _last = [];
    private readonly Lock _lock = new();
    private readonly Task _reading;
    private int _delivered;
    private int _gaps;
    private int _repeats;

    private CursorReader(WrenClient client)
    {
        _client = client;
        _reading = ReadAsync();
    }

    public int Delivered => Volatile.Read(ref _delivered);

    /// <summary>Deliveries whose seq was past the next expected one.</summary>
    public int Gaps => Volatile.Read(ref _gaps);

    /// <summary>Deliveries whose seq had already been delivered.</summary>
    public int Repeats => Volatile.Read(ref _repeats);

    public int Reconnects => _client.Reconnects;

    public int IdleDrops => _client.IdleDrops;

    public static async Task<CursorReader> ConnectAsync(WrenClientOptions options, CancellationToken cancellationToken) =>
        new(await WrenClient.ConnectAsync(options, cancellationToken).ConfigureAwait(false));

    /// <summary>The last seq delivered in a conversation (0 for none).</summary>
    public ulong Last(ulong conversationId)
    {
        lock (_lock)
        {
            return _last.GetValueOrDefault(conversationId);
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
                if (message is not Deliver deliver)
                {
                    continue;
                }

                lock (_lock)
                {
                    var last = _last.GetValueOrDefault(deliver.ConversationId);
                    if (deliver.Seq <= last)
                    {
                        _repeats++;
                        continue;
                    }

                    if (deliver.Seq != last + 1)
                    {
                        _gaps++;
                    }

                    _last[deliver.ConversationId] = deliver.Seq;
                    _delivered++;
                }
            }
        }
        catch (Exception ex) when (ex is WrenClientException or OperationCanceledException)
        {
            // The client ended.
        }
    }
}
