using System.Net;
using System.Net.Sockets;

namespace Wren.Broker.Tests;

/// <summary>Connected TCP socket pairs on 127.0.0.1, for tests of the streams under a connection.</summary>
internal static class LoopbackSockets
{
    /// <summary>A connected pair: the accepted (server) side and the connecting peer.</summary>
    public static async Task<(Socket Server, Socket Peer)> PairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var accept = listener.AcceptAsync();
        await peer.ConnectAsync(listener.LocalEndPoint!);
        return (await accept, peer);
    }
}
