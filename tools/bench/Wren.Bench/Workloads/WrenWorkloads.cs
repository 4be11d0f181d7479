using System.Diagnostics;
using System.Globalization;
using Wren.Bench.Core;
using Wren.Bench.Targets;
using Wren.Client;
using Wren.Protocol.Messages;

namespace Wren.Bench.Workloads;

/// <summary>The five workloads against a Wren broker started as a child process.</summary>
public static class WrenWorkloads
{
    private static string Inv(double v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>W1: durable 1:1 chat.</summary>
    public static async Task W1Async(BenchSettings s, BenchReport report)
    {
        await using var broker = await WrenBroker.StartAsync(s.BrokerDll);
        await using var session = await WrenChatSession.CreateAsync(broker, s.Pairs);
        await RateWorkload.RunAsync(session, "wren", s.Label ?? "W1", s, broker.Pid, report, new() { ["pairs"] = Inv(s.Pairs), ["devices per user"] = "2" });
    }

    /// <summary>W2: group fan-out.</summary>
    public static async Task W2Async(BenchSettings s, BenchReport report)
    {
        await using var broker = await WrenBroker.StartAsync(s.BrokerDll);
        await using var session = await WrenGroupSession.CreateAsync(broker, s.Members, s.Senders, "w2-");
        await RateWorkload.RunAsync(
            session, "wren", s.Label ?? "W2", s with { Window = s.Window with { LatencyPerDelivery = true } }, broker.Pid, report,
            new() { ["members"] = Inv(s.Members), ["senders"] = Inv(s.Senders) });
    }

    /// <summary>
    /// W3: one device misses <c>messages</c> messages over <c>conversations</c> direct conversations (each with its own
    /// sender), then reconnects; measured from the start of the connect to the last Deliver read from the SDK. The
    /// device reads while the catch-up runs (<see cref="WrenClientOptions.WaitForCatchUp"/> off). With
    /// <c>--replays N</c> the reader has N devices that each missed everything and reconnect in turn; the last is reported.
    /// </summary>
    public static async Task W3Async(BenchSettings s, BenchReport report)
    {
        await using var broker = await WrenBroker.StartAsync(s.BrokerDll);
        var users = await broker.CreateUsersAsync("w3-", s.Conversations + 1, devices: s.Replays);
        var reader = users[0];
        var senders = await broker.ConnectAllAsync([.. users.Skip(1).Select(u => u.Tokens[0])], o => o.SyncOnConnect = false);
        var conversations = new ulong[senders.Length];
        for (int i = 0; i < senders.Length; i++)
        {
            conversations[i] = (await senders[i].OpenDirectAsync(reader.UserId)).ConversationId;
        }

        // Each device connects once (so it is known and at the head of every conversation), then goes away.
        foreach (string token in reader.Tokens)
        {
            await (await WrenClient.ConnectAsync(broker.ClientOptions(token))).DisposeAsync();
        }

        Console.Error.WriteLine($"W3 wren: storing {s.Messages:N0} messages over {senders.Length} conversations");
        var fill = Stopwatch.StartNew();
        int perConversation = s.Messages / senders.Length;
        await Parallel.ForAsync(0, senders.Length, async (i, ct) =>
        {
            var body = new byte[s.Window.BodyBytes];
            await CatchUp.FillAsync(perConversation, () => senders[i].SendAsync(conversations[i], body, cancellationToken: ct));
        });
        fill.Stop();
        Console.Error.WriteLine($"  stored in {fill.Elapsed.TotalSeconds:0.0} s; reconnecting");
        foreach (var sender in senders)
        {
            await sender.DisposeAsync();
        }

        long expected = (long)perConversation * senders.Length;
        var replays = new List<Replay>();
        for (int replay = 0; replay < s.Replays; replay++)
        {
            // The device reads its missed messages while the catch-up streams them, as a chat app shows them.
            var options = broker.ClientOptions(reader.Tokens[replay]);
            options.WaitForCatchUp = false;
            var before = CpuSample.Take(broker.Pid);
            var clock = Stopwatch.StartNew();
            long received = 0;
            double firstAt = 0;
            await using (var device = await WrenClient.ConnectAsync(options))
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(Math.Max(60, s.Window.DrainSeconds)));
                try
                {
                    await foreach (var message in device.Events.ReadAllAsync(timeout.Token))
                    {
                        if (message is Deliver && ++received == 1)
                        {
                            firstAt = clock.Elapsed.TotalMilliseconds;
                        }

                        if (received >= expected)
                        {
                            break;
                        }
                    }
                }
                catch (OperationCanceledException)
                {
                    // Reported as unfinished below.
                }

                clock.Stop();
                replays.Add(Replay.Take(broker.Pid, received, clock, before, replay + 1, firstAt));
            }
        }

        CatchUp.Report(s, report, "wren", WrenBroker.Durability, replays, fill, expected, senders.Length);
    }

    /// <summary>W4: idle TLS connections, opened by child generator processes; server RSS growth per connection.</summary>
    public static async Task W4Async(BenchSettings s, BenchReport report)
    {
        await using var broker = await WrenBroker.StartAsync(s.BrokerDll, maxConnections: Math.Max(16_000, s.IdleConnections + 100));
        Console.Error.WriteLine($"W4 wren: issuing {s.IdleConnections:N0} device tokens");
        var users = await broker.CreateUsersAsync("w4-", s.IdleConnections, devices: 1);
        string tokenFile = Path.Combine(Path.GetTempPath(), "wren-bench-tokens-" + Guid.NewGuid().ToString("N"));
        // One line per connection: its device token and its user id (the neighbour's id is what a --traffic send needs).
        await File.WriteAllLinesAsync(tokenFile, users.Select(u => u.Tokens[0] + " " + u.UserId.ToString(CultureInfo.InvariantCulture)));
        try
        {
            var extra = new List<string> { "--port", Inv(broker.Port), "--fingerprint", broker.Fingerprint, "--tokens", tokenFile, "--traffic", Inv(s.Traffic) };
            string? note = s.Traffic > 0
                ? $"before idling, each connection sent one {s.Traffic:N0}-byte message to a direct conversation with its neighbour and received two (its own copy and the neighbour's)"
                : null;
            var result = await IdleConnections.MeasureAsync("wren", broker.Pid, s, extra, WrenBroker.Durability, note);
            report.Results.Add(result with { Workload = s.Label ?? "W4" });
        }
        finally
        {
            File.Delete(tokenFile);
        }
    }

    /// <summary>W5: closed-loop login storm: <c>concurrency</c> loops each connect (TLS + hello + auth) and disconnect.</summary>
    public static async Task W5Async(BenchSettings s, BenchReport report)
    {
        await using var broker = await WrenBroker.StartAsync(s.BrokerDll);
        var users = await broker.CreateUsersAsync("w5-", s.Concurrency, devices: 1);
        using var latency = new LatencyRecorder();
        long logins = 0;
        long errors = 0;
        long measuring = 0;
        var start = Stopwatch.GetTimestamp();
        long windowStart = start + (long)(s.Window.WarmupSeconds * Stopwatch.Frequency);
        long windowEnd = windowStart + (long)(s.Window.DurationSeconds * Stopwatch.Frequency);
        var cpu = Task.Run(async () =>
        {
            await Task.Delay(TimeSpan.FromSeconds(s.Window.WarmupSeconds));
            var b = CpuSample.Take(broker.Pid);
            Interlocked.Exchange(ref measuring, 1);
            await Task.Delay(TimeSpan.FromSeconds(s.Window.DurationSeconds));
            Interlocked.Exchange(ref measuring, 2);
            return (b, CpuSample.Take(broker.Pid));
        });
        await Parallel.ForAsync(0, s.Concurrency, new ParallelOptions { MaxDegreeOfParallelism = s.Concurrency }, async (i, ct) =>
        {
            var options = broker.ClientOptions(users[i].Tokens[0]);
            options.SyncOnConnect = false;
            options.AutoReconnect = false;
            while (Stopwatch.GetTimestamp() < windowEnd)
            {
                long t0 = Stopwatch.GetTimestamp();
                try
                {
                    await using var client = await WrenClient.ConnectAsync(options, ct);
                    long t1 = Stopwatch.GetTimestamp();
                    if (t0 >= windowStart && t1 < windowEnd)
                    {
                        Interlocked.Increment(ref logins);
                        latency.Record((t1 - t0) * 1_000_000 / Stopwatch.Frequency);
                    }
                }
                catch (Exception ex) when (ex is WrenClientException or IOException or System.Security.Authentication.AuthenticationException or TimeoutException or OperationCanceledException or System.Net.Sockets.SocketException)
                {
                    if (t0 >= windowStart && t0 < windowEnd)
                    {
                        Interlocked.Increment(ref errors);
                    }
                }
            }
        });
        var (before, after) = await cpu;
        var result = new BenchResult
        {
            Target = "wren",
            Workload = s.Label ?? "W5",
            Durability = WrenBroker.Durability,
            Seconds = s.Window.DurationSeconds,
            Throughput = logins / s.Window.DurationSeconds,
            Ack = LatencySummary.From(latency.Merge()),
            Errors = errors,
            ServerCpuCores = ProcessStats.Cores(before.Server, after.Server, s.Window.DurationSeconds),
            GeneratorCpuCores = ProcessStats.Cores(before.Generator, after.Generator, s.Window.DurationSeconds),
            MachineCpuCores = CpuSample.MachineCores(before, after, s.Window.DurationSeconds),
            Connections = s.Concurrency,
            Passed = errors == 0,
            Note = "closed loop: connect, TLS handshake, Hello, Auth, disconnect; latency = connect start to AuthOk",
            Parameters = new() { ["concurrency"] = Inv(s.Concurrency), ["window"] = $"{s.Window.WarmupSeconds:0.#}s warm-up + {s.Window.DurationSeconds:0.#}s" },
        };
        report.Results.Add(result);
        Console.Error.WriteLine($"W5 wren: {result.Throughput:N0} logins/s, p50/p99 {result.Ack.P50:G3}/{result.Ack.P99:G3} ms, errors {errors}, server CPU {BenchReport.Cores(result.ServerCpuCores)}");
    }
}
