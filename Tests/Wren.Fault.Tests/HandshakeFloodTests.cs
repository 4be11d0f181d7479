using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Wren.Client;
using Wren.CrashHarness;
using Xunit.Abstractions;

namespace Wren.Fault.Tests;

/// <summary>
/// Thousands of connections that never finish the TLS handshake, against a real broker process: each is closed within
/// the handshake timeout, the broker's memory stays bounded, and a client chatting meanwhile is unaffected (every send
/// acknowledged). The negative control runs the same flood with a handshake timeout longer than the test and must see
/// no connection closed, so the closing check can fail.
/// </summary>
public sealed class HandshakeFloodTests(ITestOutputHelper output)
{
    private const int Connections = 2000;

    [Fact]
    public async Task Thousands_of_unfinished_TLS_handshakes_are_closed_within_the_timeout_and_others_are_unaffected()
    {
        var result = await FloodAsync(handshakeTimeout: TimeSpan.FromSeconds(2), observe: TimeSpan.FromSeconds(8));

        Assert.Equal(Connections, result.Opened);
        Assert.Equal(Connections, result.Closed);
        Assert.True(result.SlowestCloseSeconds < 2 * 1.25 + 2, $"the last connection closed after {result.SlowestCloseSeconds:0.0} s");
        Assert.Equal(result.Sent, result.Acknowledged);
        Assert.True(result.RssGrowthMiB < 200, $"broker VmRSS grew {result.RssGrowthMiB:0} MiB");
        Assert.False(result.BrokerExited);
    }

    [Fact]
    public async Task Negative_control_with_a_long_handshake_timeout_no_connection_is_closed()
    {
        var result = await FloodAsync(handshakeTimeout: TimeSpan.FromMinutes(5), observe: TimeSpan.FromSeconds(4));

        Assert.Equal(Connections, result.Opened);
        Assert.Equal(0, result.Closed);
        Assert.Equal(result.Sent, result.Acknowledged);
    }

    private async Task<FloodResult> FloodAsync(TimeSpan handshakeTimeout, TimeSpan observe)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var ct = timeout.Token;
        var directory = Directory.CreateTempSubdirectory("wren-flood-").FullName;
        var sockets = new List<Socket>(Connections);
        try
        {
            await using var broker = new BrokerProcess(TestSupport.BrokerPath(), directory, ackBeforeDurable: false,
            [
                $"--Wren:Limits:HandshakeTimeout={handshakeTimeout:c}",
                $"--Wren:MaxConnections={Connections + 100}",
                $"--Wren:MaxConnectionsPerAddress={Connections + 100}",
            ]);
            await broker.StartAsync(TimeSpan.FromSeconds(60), ct);
            string token = (await File.ReadAllTextAsync(Path.Combine(directory, "admin.token"), ct)).Trim();
            await using var client = await WrenClient.ConnectAsync(new WrenClientOptions
            {
                Host = "127.0.0.1",
                Port = broker.Port,
                Token = token,
                PinnedFingerprint = broker.Fingerprint,
                SyncOnConnect = false,
                RequestTimeout = TimeSpan.FromSeconds(30),
            }, ct);
            var group = await client.CreateGroupAsync("flood", [], ct);
            long rssBefore = Rss(broker.ProcessId);

            // Half send the first bytes of a TLS ClientHello and stop; half send nothing at all.
            byte[] partialHello = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03];
            var opening = Stopwatch.StartNew();
            for (int i = 0; i < Connections; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, broker.Port), ct);
                if (i % 2 == 0)
                {
                    await socket.SendAsync(partialHello, SocketFlags.None, ct);
                }

                sockets.Add(socket);
            }

            output.WriteLine($"{Connections} connections opened in {opening.Elapsed.TotalSeconds:0.0} s");
            var opened = Stopwatch.StartNew();

            // Each socket's close is seen as the end of its stream (or a reset).
            var closedAt = new double?[Connections];
            int closedCount = 0;
            _ = sockets.Select((socket, i) => Task.Run(() => WatchAsync(socket, i), ct)).ToArray();

            // Meanwhile a client chats: every send must be acknowledged.
            int sent = 0, acknowledged = 0;
            long peakRss = rssBefore;
            // Until every connection is closed (with some sends made meanwhile) or the window ends; the negative
            // control, in which nothing closes, runs the whole window.
            while (opened.Elapsed < observe && !(Volatile.Read(ref closedCount) == Connections && sent >= 20))
            {
                var ack = await client.SendAsync(group.ConversationId, "hello"u8.ToArray(), cancellationToken: ct);
                sent++;
                if (ack.Seq > 0)
                {
                    acknowledged++;
                }

                peakRss = Math.Max(peakRss, Rss(broker.ProcessId));
                await Task.Delay(50, ct);
            }

            int closed = closedAt.Count(c => c is not null);
            double slowest = closedAt.Where(c => c is not null).Select(c => c!.Value).DefaultIfEmpty(0).Max();
            var result = new FloodResult(sockets.Count, closed, slowest, sent, acknowledged, (peakRss - rssBefore) / 1024.0 / 1024.0, broker.HasExited);
            output.WriteLine(result.ToString());
            return result;

            async Task WatchAsync(Socket socket, int index)
            {
                var buffer = new byte[4096];
                try
                {
                    while (await socket.ReceiveAsync(buffer, SocketFlags.None, ct) > 0)
                    {
                        // A TLS alert or nothing: either way the connection ends.
                    }
                }
                catch (SocketException)
                {
                    // Reset by the broker: closed as well.
                }
                catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
                {
                    // The test is over (its sockets are disposed): not a close by the broker.
                    return;
                }

                closedAt[index] = opened.Elapsed.TotalSeconds;
                Interlocked.Increment(ref closedCount);
            }
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }

            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: the broker may still be releasing its files.
            }
        }
    }

    private static long Rss(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
            }
        }

        return 0;
    }

    private sealed record FloodResult(int Opened, int Closed, double SlowestCloseSeconds, int Sent, int Acknowledged, double RssGrowthMiB, bool BrokerExited);
}
