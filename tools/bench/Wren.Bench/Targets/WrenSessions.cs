using Wren.Bench.Core;
using Wren.Client;
using Wren.Protocol.Messages;

namespace Wren.Bench.Targets;

/// <summary>
/// W1 on Wren: <c>pairs</c> user pairs A and B, each user with two connected devices, one direct conversation per pair.
/// Device A1 sends; B1, B2 and A2 are the counted receivers. A1 also gets its own message back (every device builds
/// its history from Deliver frames); that copy is read but not counted.
/// </summary>
public sealed class WrenChatSession : IMessagingSession
{
    private readonly WrenClient[] _senders;
    private readonly ulong[] _conversations;
    private readonly WrenClient[] _receivers;
    private readonly WrenClient[] _all;
    private readonly List<Task> _readers = [];

    private WrenChatSession(WrenClient[] senders, ulong[] conversations, WrenClient[] receivers, WrenClient[] all)
    {
        _senders = senders;
        _conversations = conversations;
        _receivers = receivers;
        _all = all;
    }

    /// <inheritdoc/>
    public int Senders => _senders.Length;

    /// <inheritdoc/>
    public int ReceiversPerMessage => 3;

    /// <inheritdoc/>
    public int Connections => _all.Length;

    /// <inheritdoc/>
    public string Durability => WrenBroker.Durability;

    /// <summary>Provisions and connects <paramref name="pairs"/> pairs.</summary>
    public static async Task<WrenChatSession> CreateAsync(WrenBroker broker, int pairs)
    {
        var users = await broker.CreateUsersAsync("w1-", pairs * 2, devices: 2);
        var tokens = users.SelectMany(u => u.Tokens).ToArray();
        var clients = await broker.ConnectAllAsync(tokens);
        var senders = new WrenClient[pairs];
        var conversations = new ulong[pairs];
        var receivers = new List<WrenClient>();
        for (int p = 0; p < pairs; p++)
        {
            // User 2p is A (devices 4p, 4p+1), user 2p+1 is B (devices 4p+2, 4p+3).
            senders[p] = clients[4 * p];
            conversations[p] = (await senders[p].OpenDirectAsync(users[(2 * p) + 1].UserId)).ConversationId;
            receivers.Add(clients[(4 * p) + 1]);
            receivers.Add(clients[(4 * p) + 2]);
            receivers.Add(clients[(4 * p) + 3]);
        }

        return new WrenChatSession(senders, conversations, [.. receivers], clients);
    }

    /// <inheritdoc/>
    public void StartReceiving(DeliveryHandler onDelivery, CancellationToken cancellationToken)
    {
        foreach (var client in _receivers)
        {
            _readers.Add(WrenReading.ReadAsync(client, onDelivery, cancellationToken));
        }

        foreach (var client in _senders)
        {
            _readers.Add(WrenReading.ReadAsync(client, null, cancellationToken));
        }
    }

    /// <inheritdoc/>
    public long Reconnects => _all.Sum(c => (long)c.Reconnects);

    /// <inheritdoc/>
    public Task SendAsync(int sender, ReadOnlyMemory<byte> body) => _senders[sender].SendAsync(_conversations[sender], body);

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        foreach (var client in _all)
        {
            await client.DisposeAsync();
        }

        await Task.WhenAll(_readers);
    }
}

/// <summary>
/// W2 on Wren: one group of <c>members</c> users with one connected device each; the first <c>senders</c> members send.
/// Every other member is a counted receiver; the senders read their copies without counting them.
/// </summary>
public sealed class WrenGroupSession : IMessagingSession
{
    private readonly WrenClient[] _clients;
    private readonly int _senders;
    private readonly ulong _group;
    private readonly List<Task> _readers = [];

    private WrenGroupSession(WrenClient[] clients, int senders, ulong group)
    {
        _clients = clients;
        _senders = senders;
        _group = group;
    }

    /// <inheritdoc/>
    public int Senders => _senders;

    /// <inheritdoc/>
    public int ReceiversPerMessage => _clients.Length - _senders;

    /// <inheritdoc/>
    public int Connections => _clients.Length;

    /// <inheritdoc/>
    public string Durability => WrenBroker.Durability;

    /// <summary>Provisions the group and connects every member.</summary>
    public static async Task<WrenGroupSession> CreateAsync(WrenBroker broker, int members, int senders, string prefix)
    {
        var users = await broker.CreateUsersAsync(prefix, members, devices: 1);
        var clients = await broker.ConnectAllAsync([.. users.Select(u => u.Tokens[0])]);
        const int Chunk = 900;
        var ids = users.Select(u => u.UserId).ToArray();
        var group = await clients[0].CreateGroupAsync("bench", ids.Skip(1).Take(Chunk));
        for (int i = 1 + Chunk; i < ids.Length; i += Chunk)
        {
            await clients[0].AddMembersAsync(group.ConversationId, ids.Skip(i).Take(Chunk));
        }

        return new WrenGroupSession(clients, senders, group.ConversationId);
    }

    /// <inheritdoc/>
    public void StartReceiving(DeliveryHandler onDelivery, CancellationToken cancellationToken)
    {
        for (int i = 0; i < _clients.Length; i++)
        {
            _readers.Add(WrenReading.ReadAsync(_clients[i], i < _senders ? null : onDelivery, cancellationToken));
        }
    }

    /// <inheritdoc/>
    public long Reconnects => _clients.Sum(c => (long)c.Reconnects);

    /// <inheritdoc/>
    public Task SendAsync(int sender, ReadOnlyMemory<byte> body) => _clients[sender].SendAsync(_group, body);

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }

        await Task.WhenAll(_readers);
    }
}

/// <summary>Drains a client's events, passing Deliver bodies to a handler.</summary>
internal static class WrenReading
{
    public static async Task ReadAsync(WrenClient client, DeliveryHandler? onDelivery, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var message in client.Events.ReadAllAsync(cancellationToken))
            {
                if (onDelivery is not null && message is Deliver deliver)
                {
                    onDelivery(deliver.Body);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WrenClientException or ObjectDisposedException)
        {
            // The run is over or the connection closed.
        }
    }
}
