using System.Buffers;
using MQTTnet;
using MQTTnet.Protocol;
using Wren.Bench.Core;

namespace Wren.Bench.Targets;

/// <summary>Connections to mosquitto on 127.0.0.1 (MQTT 3.1.1 over plain TCP).</summary>
public static class MqttTarget
{
    /// <summary>Mosquitto's durability as configured by tools/bench/compare.sh.</summary>
    public const string Durability = "QoS 1, persistence true (in memory, saved every autosave_interval; no fsync before PUBACK)";

    private static readonly MqttClientFactory Factory = new();

    /// <summary>Connects one client with a persistent session.</summary>
    public static async Task<IMqttClient> ConnectAsync(int port, string clientId)
    {
        var client = Factory.CreateMqttClient();
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithClientId(clientId)
            .WithCleanSession(false)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(60))
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build();
        await client.ConnectAsync(options);
        return client;
    }

    /// <summary>An idle connection for W4.</summary>
    public static async Task<IAsyncDisposable> ConnectIdleAsync(int port, string clientId) => new Idle(await ConnectAsync(port, clientId));

    private sealed class Idle(IMqttClient client) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            client.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>
/// W2 on mosquitto: <c>members</c> clients subscribe with QoS 1 to one topic; the first <c>senders</c> of them publish
/// with QoS 1 (PublishAsync completes with the PUBACK).
/// </summary>
public sealed class MqttGroupSession : IMessagingSession
{
    private readonly IMqttClient[] _clients;
    private readonly int _senders;
    private readonly string _topic;
    private DeliveryHandler? _onDelivery;

    private MqttGroupSession(IMqttClient[] clients, int senders, string topic)
    {
        _clients = clients;
        _senders = senders;
        _topic = topic;
        for (int i = senders; i < clients.Length; i++)
        {
            clients[i].ApplicationMessageReceivedAsync += e =>
            {
                if (Volatile.Read(ref _onDelivery) is { } handler)
                {
                    var payload = e.ApplicationMessage.Payload;
                    handler(payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray());
                }

                return Task.CompletedTask;
            };
        }
    }

    /// <inheritdoc/>
    public int Senders => _senders;

    /// <inheritdoc/>
    public int ReceiversPerMessage => _clients.Length - _senders;

    /// <inheritdoc/>
    public int Connections => _clients.Length;

    /// <inheritdoc/>
    public string Durability => MqttTarget.Durability;

    /// <summary>Connects every member and subscribes it.</summary>
    public static async Task<MqttGroupSession> CreateAsync(int port, int members, int senders)
    {
        string run = Guid.NewGuid().ToString("N")[..8];
        string topic = $"group/{run}";
        var clients = new IMqttClient[members];
        await Parallel.ForAsync(0, members, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            var client = await MqttTarget.ConnectAsync(port, $"w2-{run}-{i}");
            await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(topic, MqttQualityOfServiceLevel.AtLeastOnce).Build(), ct);
            clients[i] = client;
        });
        return new MqttGroupSession(clients, senders, topic);
    }

    /// <inheritdoc/>
    public void StartReceiving(DeliveryHandler onDelivery, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _onDelivery, onDelivery);
        cancellationToken.Register(() => Interlocked.CompareExchange(ref _onDelivery, null, onDelivery));
    }

    /// <inheritdoc/>
    public async Task SendAsync(int sender, ReadOnlyMemory<byte> body)
    {
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(_topic)
            .WithPayload(body.ToArray())
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();
        var result = await _clients[sender].PublishAsync(message);
        if (!result.IsSuccess)
        {
            throw new InvalidOperationException($"PUBACK {result.ReasonCode}");
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisconnectAsync();
            client.Dispose();
        }
    }
}
