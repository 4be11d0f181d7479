using Wren.Cli.Connection;
using Wren.Client;
using Wren.Protocol.Messages;

namespace Wren.Cli.Demo;

/// <summary>
/// One simulated device of the demo: a token, local storage that outlives its connections (the SDK's cursor store and
/// the list of entries it received), and a connection that goes offline and comes back.
/// </summary>
internal sealed class DemoDevice(string name, string token) : IAsyncDisposable
{
    private readonly InMemoryClientCursorStore _cursors = new();
    private readonly Dictionary<ulong, List<Deliver>> _received = [];
    private readonly Lock _lock = new();
    private Task _pump = Task.CompletedTask;

    public string Name { get; } = name;

    public WrenClient? Client { get; private set; }

    public bool Online => Client is not null;

    /// <summary>Connects (or reconnects) with the same token and local state, and records every delivery.</summary>
    public async Task ConnectAsync(ResolvedConnection connection, CancellationToken cancellationToken)
    {
        var target = connection with { Token = token };
        Client = await CliConnect.ConnectAsync(target, cancellationToken, options =>
        {
            options.AutoAck = true;
            options.AutoReconnect = true;
            options.CursorStore = _cursors;
            options.MinReconnectDelay = TimeSpan.FromMilliseconds(20);
            options.MaxReconnectDelay = TimeSpan.FromMilliseconds(500);
        }).ConfigureAwait(false);
        var client = Client;
        _pump = Task.Run(async () =>
        {
            try
            {
                await foreach (var message in client.Events.ReadAllAsync().ConfigureAwait(false))
                {
                    if (message is Deliver deliver)
                    {
                        lock (_lock)
                        {
                            if (!_received.TryGetValue(deliver.ConversationId, out var list))
                            {
                                _received[deliver.ConversationId] = list = [];
                            }

                            list.Add(deliver);
                        }
                    }
                }
            }
            catch (WrenClientException)
            {
                // The session ended; the proof shows what this device is missing.
            }
        }, CancellationToken.None);
    }

    /// <summary>Closes the connection, as when the app is closed or the phone loses its network.</summary>
    public async Task GoOfflineAsync()
    {
        if (Client is { } client)
        {
            Client = null;
            await client.DisposeAsync().ConfigureAwait(false);
            await _pump.ConfigureAwait(false);
        }
    }

    /// <summary>The highest seq this device holds in a conversation.</summary>
    public ulong LastSeq(ulong conversationId)
    {
        lock (_lock)
        {
            return _received.TryGetValue(conversationId, out var list) && list.Count > 0 ? list.Max(d => d.Seq) : 0;
        }
    }

    /// <summary>A copy of what the device received in a conversation, in arrival order.</summary>
    public IReadOnlyList<Deliver> Received(ulong conversationId)
    {
        lock (_lock)
        {
            return _received.TryGetValue(conversationId, out var list) ? [.. list] : [];
        }
    }

    public ValueTask DisposeAsync() => new(GoOfflineAsync());
}
