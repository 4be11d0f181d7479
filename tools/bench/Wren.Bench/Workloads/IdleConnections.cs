using System.Globalization;
using System.Runtime.InteropServices;
using Wren.Bench.Core;
using Wren.Bench.Targets;
using Wren.Client;

namespace Wren.Bench.Workloads;

/// <summary>
/// W4: idle connections opened by child generator processes (the client side holds a file per connection too, and
/// one process may hold 20,000), so that the server's memory per connection can be measured: RSS growth / connections.
/// </summary>
public static class IdleConnections
{
    /// <summary>Spawns the children, waits for their connections, samples the server, stops the children.</summary>
    public static async Task<BenchResult> MeasureAsync(string target, int serverPid, BenchSettings s, IReadOnlyList<string> childArguments, string durability, string? note = null)
    {
        ArgumentNullException.ThrowIfNull(s);
        // Let the server settle after provisioning before the baseline.
        await Task.Delay(2000);
        var before = ProcessStats.Read(serverPid);
        var children = new List<ChildProcess>();
        int connected = 0;
        int failed = 0;
        var steps = new List<(int Connections, long Rss)>();
        try
        {
            for (int from = 0; from < s.IdleConnections; from += s.PerProcess)
            {
                int count = Math.Min(s.PerProcess, s.IdleConnections - from);
                int ok = 0;
                int bad = 0;
                var args = new List<string> { SelfPath(), "idle-child", "--target", target, "--from", Inv(from), "--count", Inv(count) };
                args.AddRange(childArguments);
                children.Add(await ChildProcess.StartAsync(WrenBroker.DotnetHost(), args, line =>
                {
                    var parts = line.Split(' ');
                    if (parts.Length == 3 && parts[0] == "ready")
                    {
                        ok = int.Parse(parts[1], CultureInfo.InvariantCulture);
                        bad = int.Parse(parts[2], CultureInfo.InvariantCulture);
                        return true;
                    }

                    return false;
                }, TimeSpan.FromMinutes(5)));
                connected += ok;
                failed += bad;
                if (ProcessStats.Read(serverPid) is { } step)
                {
                    steps.Add((connected, step.RssBytes));
                }

                Console.Error.WriteLine($"W4 {target}: {connected:N0} connected, {failed:N0} failed");
            }

            var held = CpuSample.Take(serverPid);
            await Task.Delay(TimeSpan.FromSeconds(s.SettleSeconds));
            var heldAfter = CpuSample.Take(serverPid);
            var after = heldAfter.Server;
            long delta = (after?.RssBytes ?? 0) - (before?.RssBytes ?? 0);
            // The slope between the first and the last child excludes one-off growth (heap budgets, thread stacks,
            // pools sized on first use) that the first connections pay for.
            string marginal = steps.Count >= 2 && steps[^1].Connections > steps[0].Connections
                ? $"{(double)(steps[^1].Rss - steps[0].Rss) / (steps[^1].Connections - steps[0].Connections) / 1024:0.0} KiB per connection between {steps[0].Connections:N0} and {steps[^1].Connections:N0} connections; "
                : "";
            var result = new BenchResult
            {
                Target = target,
                Durability = durability,
                Seconds = s.SettleSeconds,
                Connections = connected,
                Errors = failed,
                BytesPerConnection = connected > 0 ? (double)delta / connected : null,
                ServerCpuCores = ProcessStats.Cores(held.Server, after, s.SettleSeconds),
                MachineCpuCores = CpuSample.MachineCores(held, heldAfter, s.SettleSeconds),
                Passed = failed == 0 && connected == s.IdleConnections,
                Note = $"{marginal}server RSS {Mib(before?.RssBytes)} MiB before, {Mib(after?.RssBytes)} MiB with {connected:N0} idle connections ({children.Count} child processes); CPU column = idle cost"
                    + (note is null ? "" : "; " + note),
                Parameters = new() { ["connections"] = Inv(s.IdleConnections), ["per process"] = Inv(s.PerProcess), ["settle"] = $"{s.SettleSeconds:0.#}s" },
            };
            Console.Error.WriteLine($"W4 {target}: {result.BytesPerConnection / 1024:0.0} KiB per connection; {result.Note}");
            return result;
        }
        finally
        {
            foreach (var child in children)
            {
                await child.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// The child's side: opens <c>count</c> connections (a few at a time), prints <c>ready OK FAILED</c>, and holds
    /// them until SIGTERM or the end of standard input.
    /// </summary>
    public static async Task<int> ChildAsync(Args args)
    {
        ArgumentNullException.ThrowIfNull(args);
        string target = args.String("target") ?? "wren";
        int from = args.Int("from", 0);
        int count = args.Int("count", 0);
        int port = args.Int("port", 0);
        string? fingerprint = args.String("fingerprint");
        string? tokenFile = args.String("tokens");
        int traffic = args.Int("traffic", 0);
        args.RejectUnknown();
        var held = new List<IAsyncDisposable>(count);
        int failed = 0;
        var gate = new SemaphoreSlim(32);
        // Wren: "token userId" per line; a connection's neighbour is the one whose index differs in the lowest bit.
        string[] lines = tokenFile is null ? [] : await File.ReadAllLinesAsync(tokenFile);
        string[] tokens = [.. lines.Skip(from).Take(count).Select(l => l.Split(' ')[0])];
        ulong NeighbourOf(int i)
        {
            int neighbour = (from + i) ^ 1;
            return neighbour < lines.Length ? ulong.Parse(lines[neighbour].Split(' ')[1], CultureInfo.InvariantCulture) : 0;
        }

        var tasks = Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                IAsyncDisposable connection = target switch
                {
                    "wren" => await WrenClient.ConnectAsync(new WrenClientOptions { Port = port, Token = tokens[i], PinnedFingerprint = fingerprint, AutoReconnect = false }),
                    "mosquitto" => await MqttTarget.ConnectIdleAsync(port, $"idle-{from + i}"),
                    _ => throw new FormatException($"idle connections are not implemented for {target}"),
                };
                if (traffic > 0 && connection is WrenClient client && NeighbourOf(i) is var neighbour and not 0)
                {
                    // Traffic before idling: one message out, this connection's copy and the neighbour's message in.
                    var direct = await client.OpenDirectAsync(neighbour);
                    await client.SendAsync(direct.ConversationId, new byte[traffic]);
                }

                lock (held)
                {
                    held.Add(connection);
                }
            }
#pragma warning disable CA1031 // Every failed connection is counted and reported, whatever the client library threw.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                if (Interlocked.Increment(ref failed) <= 3)
                {
                    Console.Error.WriteLine($"idle-child: connect failed: {ex.GetType().Name}: {ex.Message}");
                }
            }
            finally
            {
                gate.Release();
            }
        });
        await Task.WhenAll(tasks);
        Console.WriteLine($"ready {held.Count} {failed}");

        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.TrySetResult();
        });
        var stdin = Task.Run(async () =>
        {
            while (await Console.In.ReadLineAsync() is not null)
            {
            }

            stop.TrySetResult();
        });
        await stop.Task;
        // The process exits now; the kernel closes every socket, which is quicker than 5,000 graceful closes.
        return 0;
    }

    private static string SelfPath() => typeof(IdleConnections).Assembly.Location;

    private static string Inv(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static string Mib(long? bytes) => bytes is { } b ? (b / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) : "?";
}
