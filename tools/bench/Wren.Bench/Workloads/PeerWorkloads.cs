using System.Diagnostics;
using System.Globalization;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using StackExchange.Redis;
using Wren.Bench.Core;
using Wren.Bench.Targets;

namespace Wren.Bench.Workloads;

/// <summary>The workloads against peer servers already running on 127.0.0.1 (started by tools/bench/compare.sh).</summary>
public static class PeerWorkloads
{
    private static string Inv(double v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>W1 on jetstream or redis.</summary>
    public static async Task W1Async(BenchSettings s, BenchReport report)
    {
        await using IMessagingSession session = s.Target switch
        {
            "jetstream" => await JetStreamChatSession.CreateAsync(s.Port, s.Pairs),
            "redis" => await RedisChatSession.CreateAsync(s.Port, s.Pairs),
            _ => throw new FormatException($"W1 runs against wren, jetstream or redis, not {s.Target}"),
        };
        await RateWorkload.RunAsync(session, s.Target, s.Label ?? "W1", s, s.Pid, report, new() { ["pairs"] = Inv(s.Pairs), ["devices per user"] = "2" });
    }

    /// <summary>W2 on nats (core) or mosquitto.</summary>
    public static async Task W2Async(BenchSettings s, BenchReport report)
    {
        string? note = s.Target switch
        {
            "nats" => "core NATS: no ack, the ack column is PublishAsync returning",
            "mosquitto" => "mosquitto cannot fsync before PUBACK",
            _ => null,
        };
        await using IMessagingSession session = s.Target switch
        {
            "nats" => await NatsGroupSession.CreateAsync(s.Port, s.Members, s.Senders),
            "mosquitto" => await MqttGroupSession.CreateAsync(s.Port, s.Members, s.Senders),
            _ => throw new FormatException($"W2 runs against wren, nats or mosquitto, not {s.Target}"),
        };
        await RateWorkload.RunAsync(
            session, s.Target, s.Label ?? "W2", s with { Window = s.Window with { LatencyPerDelivery = true } }, s.Pid, report,
            new() { ["members"] = Inv(s.Members), ["senders"] = Inv(s.Senders) }, note);
    }

    /// <summary>
    /// W3 on jetstream or redis: fill, then one reader replays everything from the start (<c>--replays N</c>: N times in
    /// turn, reported as <see cref="CatchUp.Report"/> says).
    /// </summary>
    public static async Task W3Async(BenchSettings s, BenchReport report)
    {
        int per = s.Messages / s.Conversations;
        long expected = (long)per * s.Conversations;
        string run = Guid.NewGuid().ToString("N")[..8];
        var body = new byte[s.Window.BodyBytes];
        var replays = new List<Replay>();
        Stopwatch fill;
        string durability;
        if (s.Target == "jetstream")
        {
            durability = Nats.JetStreamDurability;
            var connections = await Nats.ConnectAsync(s.Port, 2, "w3");
            try
            {
                var js = new NatsJSContext(connections[0]);
                string stream = "CU" + run;
                await js.CreateStreamAsync(new StreamConfig(stream, [$"cu.{run}.>"]) { Storage = StreamConfigStorage.File });
                Console.Error.WriteLine($"W3 jetstream: storing {expected:N0} messages over {s.Conversations} subjects");
                fill = Stopwatch.StartNew();
                await Parallel.ForAsync(0, s.Conversations, async (c, ct) =>
                {
                    string subject = $"cu.{run}.{c}";
                    await CatchUp.FillAsync(per, () => js.PublishAsync(subject, body, cancellationToken: ct).AsTask().ContinueWith(t => t.Result.EnsureSuccess(), TaskScheduler.Default));
                });
                fill.Stop();
                var reader = new NatsJSContext(connections[1]);
                while (replays.Count < s.Replays)
                {
                    var before = CpuSample.Take(s.Pid);
                    var clock = Stopwatch.StartNew();
                    var consumer = await reader.CreateOrderedConsumerAsync(stream, new NatsJSOrderedConsumerOpts { DeliverPolicy = ConsumerConfigDeliverPolicy.All });
                    long received = 0;
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(Math.Max(60, s.Window.DrainSeconds)));
                    try
                    {
                        await foreach (var message in consumer.ConsumeAsync<byte[]>(cancellationToken: timeout.Token))
                        {
                            if (++received >= expected)
                            {
                                break;
                            }
                        }
                    }
                    catch (OperationCanceledException)
                    {
                        // Reported as unfinished.
                    }

                    clock.Stop();
                    replays.Add(Replay.Take(s.Pid, received, clock, before, replays.Count + 1));
                }
            }
            finally
            {
                foreach (var connection in connections)
                {
                    await connection.DisposeAsync();
                }
            }
        }
        else if (s.Target == "redis")
        {
            durability = RedisChatSession.DurabilityText;
            var connections = await RedisChatSession.ConnectAsync(s.Port, 2);
            try
            {
                var keys = Enumerable.Range(0, s.Conversations).Select(c => (RedisKey)$"cu:{run}:{c}").ToArray();
                var db = connections[0].GetDatabase();
                Console.Error.WriteLine($"W3 redis: storing {expected:N0} messages over {s.Conversations} streams");
                fill = Stopwatch.StartNew();
                await Parallel.ForAsync(0, s.Conversations, async (c, _) => await CatchUp.FillAsync(per, () => db.StreamAddAsync(keys[c], "b", body)));
                fill.Stop();
                while (replays.Count < s.Replays)
                {
                    var before = CpuSample.Take(s.Pid);
                    var clock = Stopwatch.StartNew();
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(Math.Max(60, s.Window.DrainSeconds)));
                    long received = await RedisChatSession.ReadAsync(
                        connections[1].GetDatabase(), keys, [.. keys.Select(_ => "0-0")], null, 1000, timeout.Token, expected);
                    clock.Stop();
                    replays.Add(Replay.Take(s.Pid, received, clock, before, replays.Count + 1));
                }
            }
            finally
            {
                foreach (var connection in connections)
                {
                    await connection.DisposeAsync();
                }
            }
        }
        else
        {
            throw new FormatException($"W3 runs against wren, jetstream or redis, not {s.Target}");
        }

        CatchUp.Report(s, report, s.Target, s.Durability ?? durability, replays, fill, expected, s.Conversations);
    }

    /// <summary>W4 on mosquitto.</summary>
    public static async Task W4Async(BenchSettings s, BenchReport report)
    {
        if (s.Target != "mosquitto")
        {
            throw new FormatException($"W4 runs against wren or mosquitto, not {s.Target}");
        }

        var result = await IdleConnections.MeasureAsync("mosquitto", s.Pid, s, ["--port", Inv(s.Port)], s.Durability ?? MqttTarget.Durability, "plain TCP (no TLS)");
        report.Results.Add(result with { Workload = s.Label ?? "W4" });
    }
}
