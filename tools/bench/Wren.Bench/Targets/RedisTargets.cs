using StackExchange.Redis;
using Wren.Bench.Core;

namespace Wren.Bench.Targets;

/// <summary>
/// W1 on Redis Streams: per pair one stream; device A1 adds with XADD (with <c>appendfsync always</c> Redis replies
/// after the AOF write is fsynced); B1, B2 and A2 each read with a blocking XREAD on their own connection, from the
/// last id they saw.
/// </summary>
public sealed class RedisChatSession : IMessagingSession
{
    /// <summary>Redis's durability as configured by tools/bench/compare.sh.</summary>
    public const string DurabilityText = "appendonly yes, appendfsync always (fsync before reply)";

    private readonly ConnectionMultiplexer[] _connections;
    private readonly RedisKey[] _keys;
    private readonly (ConnectionMultiplexer Connection, RedisKey Key, string[] LastId)[] _receivers;
    private readonly List<Task> _readers = [];

    private RedisChatSession(ConnectionMultiplexer[] connections, RedisKey[] keys, (ConnectionMultiplexer, RedisKey, string[])[] receivers)
    {
        _connections = connections;
        _keys = keys;
        _receivers = receivers;
    }

    /// <inheritdoc/>
    public int Senders => _keys.Length;

    /// <inheritdoc/>
    public int ReceiversPerMessage => 3;

    /// <inheritdoc/>
    public int Connections => _connections.Length;

    /// <inheritdoc/>
    public string Durability => DurabilityText;

    /// <summary>Connects 4 connections per pair.</summary>
    public static async Task<RedisChatSession> CreateAsync(int port, int pairs)
    {
        string run = Guid.NewGuid().ToString("N")[..8];
        var connections = await ConnectAsync(port, pairs * 4);
        var keys = new RedisKey[pairs];
        var receivers = new List<(ConnectionMultiplexer, RedisKey, string[])>();
        for (int p = 0; p < pairs; p++)
        {
            keys[p] = $"chat:{run}:{p}";
            for (int d = 1; d < 4; d++)
            {
                receivers.Add((connections[(4 * p) + d], keys[p], ["0-0"]));
            }
        }

        return new RedisChatSession(connections, keys, [.. receivers]);
    }

    /// <summary>One multiplexer per device (a blocking XREAD holds its connection).</summary>
    public static async Task<ConnectionMultiplexer[]> ConnectAsync(int port, int count)
    {
        var connections = new ConnectionMultiplexer[count];
        for (int i = 0; i < count; i++)
        {
            connections[i] = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
            {
                EndPoints = { { "127.0.0.1", port } },
                AsyncTimeout = 30_000,
                SyncTimeout = 30_000,
                AbortOnConnectFail = true,
                // RESP2: XREAD answers nested arrays (RESP3 would answer a map), which ReadAsync parses.
                Protocol = RedisProtocol.Resp2,
            });
        }

        return connections;
    }

    /// <inheritdoc/>
    public void StartReceiving(DeliveryHandler onDelivery, CancellationToken cancellationToken)
    {
        foreach (var receiver in _receivers)
        {
            _readers.Add(ReadAsync(receiver.Connection.GetDatabase(), [receiver.Key], receiver.LastId, onDelivery, 1000, cancellationToken));
        }
    }

    /// <summary>
    /// Blocking XREAD loop over <paramref name="keys"/> from <paramref name="lastIds"/> (updated in place), COUNT
    /// <paramref name="count"/>, BLOCK 1 s; returns when cancelled or, with <paramref name="until"/>, after that many entries.
    /// </summary>
    public static async Task<long> ReadAsync(IDatabase db, RedisKey[] keys, string[] lastIds, DeliveryHandler? onDelivery, int count, CancellationToken cancellationToken, long until = long.MaxValue)
    {
        long read = 0;
        var args = new List<object> { "COUNT", count, "BLOCK", 1000, "STREAMS" };
        args.AddRange(keys.Select(k => (object)k.ToString()));
        int idStart = args.Count;
        args.AddRange(lastIds);
        var index = keys.Select((k, i) => (k.ToString(), i)).ToDictionary(x => x.Item1, x => x.i);
        try
        {
            while (!cancellationToken.IsCancellationRequested && read < until)
            {
                for (int i = 0; i < lastIds.Length; i++)
                {
                    args[idStart + i] = lastIds[i];
                }

                var result = await db.ExecuteAsync("XREAD", args).WaitAsync(cancellationToken);
                if (result.IsNull)
                {
                    continue;
                }

                foreach (var stream in (RedisResult[])result!)
                {
                    var parts = (RedisResult[])stream!;
                    int k = index[(string)parts[0]!];
                    foreach (var entry in (RedisResult[])parts[1]!)
                    {
                        var fields = (RedisResult[])entry!;
                        lastIds[k] = (string)fields[0]!;
                        read++;
                        if (onDelivery is not null)
                        {
                            var values = (RedisResult[])fields[1]!;
                            onDelivery((byte[])values[1]!);
                        }
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The window is over.
        }

        return read;
    }

    /// <inheritdoc/>
    public async Task SendAsync(int sender, ReadOnlyMemory<byte> body)
    {
        await _connections[4 * sender].GetDatabase().StreamAddAsync(_keys[sender], "b", body);
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
