using System.Runtime.InteropServices;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using Wren.Bench.Core;

namespace Wren.Bench.Targets;

/// <summary>Connections to a nats-server on 127.0.0.1 (plain TCP).</summary>
internal static class Nats
{
    /// <summary>JetStream's durability as configured by tools/bench/compare.sh.</summary>
    public const string JetStreamDurability = "JetStream file storage, sync_interval: always (fsync before PubAck)";

    /// <summary>Core NATS has no persistence and no acknowledgement.</summary>
    public const string CoreDurability = "none (core NATS: at most once, in memory)";

    public static async Task<NatsConnection[]> ConnectAsync(int port, int count, string name)
    {
        var connections = new NatsConnection[count];
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, _) =>
        {
            var connection = new NatsConnection(new NatsOpts { Url = $"nats://127.0.0.1:{port}", Name = $"{name}-{i}", SubPendingChannelCapacity = 100_000 });
            await connection.ConnectAsync();
            connections[i] = connection;
        });
        return connections;
    }

    public static byte[] Array(ReadOnlyMemory<byte> body) =>
        MemoryMarshal.TryGetArray(body, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length ? segment.Array : body.ToArray();

    public static async Task ReadAsync<T>(IAsyncEnumerable<T> messages, Func<T, byte[]?> data, DeliveryHandler? onDelivery, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var message in messages.WithCancellation(cancellationToken))
            {
                if (onDelivery is not null && data(message) is { } body)
                {
                    onDelivery(body);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The window is over.
        }
    }
}

/// <summary>
/// W1 on NATS JetStream: per pair one file-backed stream holding subject <c>chat.{run}.{pair}</c> (a stream per pair
/// rather than consumer subject filters, which nats-server 2.9 lacks for ordered consumers); device A1 publishes
/// (PublishAsync completes with the PubAck, which sync_interval: always gives after the fsync); B1, B2 and A2 each
/// read with their own ordered consumer on their own connection.
/// </summary>
public sealed class JetStreamChatSession : IMessagingSession
{
    private readonly NatsConnection[] _connections;
    private readonly NatsJSContext[] _senders;
    private readonly INatsJSConsumer[] _consumers;
    private readonly string _prefix;
    private readonly List<Task> _readers = [];

    private JetStreamChatSession(NatsConnection[] connections, NatsJSContext[] senders, INatsJSConsumer[] consumers, string prefix)
    {
        _connections = connections;
        _senders = senders;
        _consumers = consumers;
        _prefix = prefix;
    }

    /// <inheritdoc/>
    public int Senders => _senders.Length;

    /// <inheritdoc/>
    public int ReceiversPerMessage => 3;

    /// <inheritdoc/>
    public int Connections => _connections.Length;

    /// <inheritdoc/>
    public string Durability => Nats.JetStreamDurability;

    /// <summary>Creates the stream and connects 4 connections per pair.</summary>
    public static async Task<JetStreamChatSession> CreateAsync(int port, int pairs)
    {
        string run = Guid.NewGuid().ToString("N")[..8];
        var connections = await Nats.ConnectAsync(port, pairs * 4, "w1");
        var admin = new NatsJSContext(connections[0]);
        var senders = new NatsJSContext[pairs];
        var consumers = new List<INatsJSConsumer>();
        for (int p = 0; p < pairs; p++)
        {
            string stream = $"CHAT{run}_{p}";
            await admin.CreateStreamAsync(new StreamConfig(stream, [$"chat.{run}.{p}"]) { Storage = StreamConfigStorage.File });
            senders[p] = new NatsJSContext(connections[4 * p]);
            for (int d = 1; d < 4; d++)
            {
                var js = new NatsJSContext(connections[(4 * p) + d]);
                consumers.Add(await js.CreateOrderedConsumerAsync(stream, new NatsJSOrderedConsumerOpts { DeliverPolicy = ConsumerConfigDeliverPolicy.New }));
            }
        }

        return new JetStreamChatSession(connections, senders, [.. consumers], $"chat.{run}.");
    }

    /// <inheritdoc/>
    public void StartReceiving(DeliveryHandler onDelivery, CancellationToken cancellationToken)
    {
        foreach (var consumer in _consumers)
        {
            _readers.Add(Nats.ReadAsync(consumer.ConsumeAsync<byte[]>(cancellationToken: cancellationToken), m => m.Data, onDelivery, cancellationToken));
        }
    }

    /// <inheritdoc/>
    public async Task SendAsync(int sender, ReadOnlyMemory<byte> body)
    {
        var ack = await _senders[sender].PublishAsync(_prefix + sender.ToString(System.Globalization.CultureInfo.InvariantCulture), Nats.Array(body));
        ack.EnsureSuccess();
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_readers);
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }
    }
}

/// <summary>
/// W2 on core NATS: <c>members</c> connections subscribe to one subject; the first <c>senders</c> of them publish.
/// Core NATS has no acknowledgement: the "ack" is PublishAsync returning (the message is in the client's buffer).
/// </summary>
public sealed class NatsGroupSession : IMessagingSession
{
    private readonly NatsConnection[] _connections;
    private readonly int _senders;
    private readonly string _subject;
    private readonly List<Task> _readers = [];

    private NatsGroupSession(NatsConnection[] connections, int senders, string subject)
    {
        _connections = connections;
        _senders = senders;
        _subject = subject;
    }

    /// <inheritdoc/>
    public int Senders => _senders;

    /// <inheritdoc/>
    public int ReceiversPerMessage => _connections.Length - _senders;

    /// <inheritdoc/>
    public int Connections => _connections.Length;

    /// <inheritdoc/>
    public string Durability => Nats.CoreDurability;

    /// <summary>Connects every member.</summary>
    public static async Task<NatsGroupSession> CreateAsync(int port, int members, int senders) =>
        new(await Nats.ConnectAsync(port, members, "w2"), senders, "group." + Guid.NewGuid().ToString("N")[..8]);

    /// <inheritdoc/>
    public void StartReceiving(DeliveryHandler onDelivery, CancellationToken cancellationToken)
    {
        var subscribed = new List<Task>();
        for (int i = 0; i < _connections.Length; i++)
        {
            _readers.Add(Nats.ReadAsync(_connections[i].SubscribeAsync<byte[]>(_subject, cancellationToken: cancellationToken), m => m.Data, i < _senders ? null : onDelivery, cancellationToken));
        }

        // Subscriptions are sent on first enumeration; a ping round trip on every connection makes sure they are in
        // place before the first message is due.
        foreach (var connection in _connections)
        {
            subscribed.Add(connection.PingAsync(cancellationToken).AsTask());
        }

        Task.WhenAll(subscribed).Wait(cancellationToken);
    }

    /// <inheritdoc/>
    public Task SendAsync(int sender, ReadOnlyMemory<byte> body) => _connections[sender].PublishAsync(_subject, Nats.Array(body)).AsTask();

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_readers);
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }
    }
}
