using System.Net.Sockets;

namespace Wren.Broker.Tests;

/// <summary>
/// Clients that vanish with a TCP reset at every stage of a connection: the broker releases each one and keeps
/// serving, and logs no error (the fixture fails the test on any).
/// </summary>
public sealed class ResetTests
{
    private const int PerStage = 20;

    [Fact]
    public async Task Connections_reset_before_during_and_after_the_handshake_are_released_and_the_broker_keeps_serving()
    {
        // The defaults admit the burst: 1,000 connections per address, no connection-rate limit for loopback.
        await using var broker = await TestBroker.StartAsync();
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");

        for (int i = 0; i < PerStage; i++)
        {
            // Before TLS: TCP connect, then reset.
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync("127.0.0.1", broker.Port);
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();

            // During TLS: half a ClientHello record header, then reset.
            using var partial = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await partial.ConnectAsync("127.0.0.1", broker.Port);
            await partial.SendAsync(new byte[] { 0x16, 0x03, 0x01 });
            partial.LingerState = new LingerOption(true, 0);
            partial.Close();

            // After Hello and Auth: a live session, then reset.
            var session = await RawConnection.ConnectAuthenticatedAsync(broker, alice.Token);
            await session.ResetAsync();
        }

        await Await.UntilAsync(() => broker.Server.Connections.Count == 0, "every reset connection to be released");

        // A normal client still sends and receives.
        await using var a = await broker.ConnectAsync(alice.Token);
        await using var b = await broker.ConnectAsync(bob.Token);
        var direct = await a.OpenDirectAsync(bob.User.UserId);
        await a.SendAsync(direct.ConversationId, "still here"u8.ToArray());
        var delivered = await Await.DeliveriesAsync(b, 1);
        Assert.Equal("still here"u8.ToArray(), delivered[0].Body);
    }
}
