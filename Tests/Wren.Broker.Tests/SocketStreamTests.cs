using System.Net.Sockets;

namespace Wren.Broker.Tests;

/// <summary>
/// The stream under every connection's TLS: real loopback sockets. A reset by the peer ends the stream quietly, a
/// cancelled read completes, and bytes go both ways unchanged.
/// </summary>
public sealed class SocketStreamTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private static Task<(Socket Server, Socket Peer)> ConnectedPairAsync() => LoopbackSockets.PairAsync();

    /// <summary>Closes <paramref name="peer"/> with a reset (linger 0) instead of a FIN.</summary>
    private static void Reset(Socket peer)
    {
        peer.LingerState = new LingerOption(true, 0);
        peer.Close();
    }

    [Fact]
    public async Task Bytes_go_both_ways_unchanged()
    {
        var (server, peer) = await ConnectedPairAsync();
        using var stream = new SocketStream(server);
        using var _ = peer;
        var outbound = Enumerable.Range(0, 200_000).Select(i => (byte)(i * 7)).ToArray();
        var peerReceived = new MemoryStream();
        var receiving = Task.Run(async () =>
        {
            var buffer = new byte[8192];
            while (peerReceived.Length < outbound.Length)
            {
                int n = await peer.ReceiveAsync(buffer);
                Assert.NotEqual(0, n);
                peerReceived.Write(buffer, 0, n);
            }
        });
        await stream.WriteAsync(outbound).AsTask().WaitAsync(Patience);
        await receiving.WaitAsync(Patience);
        Assert.Equal(outbound, peerReceived.ToArray());

        await peer.SendAsync(new byte[] { 1, 2, 3 });
        var read = new byte[16];
        int got = await stream.ReadAsync(read).AsTask().WaitAsync(Patience);
        Assert.Equal(new byte[] { 1, 2, 3 }, read[..got]);
    }

    [Fact]
    public async Task A_peer_reset_ends_the_stream_without_an_exception()
    {
        var (server, peer) = await ConnectedPairAsync();
        using var stream = new SocketStream(server);
        var pending = stream.ReadAsync(new byte[64]).AsTask();
        Reset(peer);
        Assert.Equal(0, await pending.WaitAsync(Patience));
        Assert.True(stream.ConnectionLost);
        // Later reads keep reporting the end; writes fail (whoever writes must learn the bytes did not go out).
        Assert.Equal(0, await stream.ReadAsync(new byte[64]).AsTask().WaitAsync(Patience));
        await Assert.ThrowsAsync<IOException>(async () =>
        {
            for (int i = 0; i < 100; i++)
            {
                await stream.WriteAsync(new byte[1024]).AsTask().WaitAsync(Patience);
            }
        });
    }

    [Fact]
    public async Task NetworkStream_throws_on_the_same_reset()
    {
        // The control for the test above: the stream the broker used before surfaces the reset as an exception (whose
        // creation, with an eagerly formatted stack trace, is what SocketStream avoids).
        var (server, peer) = await ConnectedPairAsync();
        using var stream = new NetworkStream(server, ownsSocket: true);
        var pending = stream.ReadAsync(new byte[64]).AsTask();
        Reset(peer);
        await Assert.ThrowsAsync<IOException>(() => pending.WaitAsync(Patience));
    }

    [Fact]
    public async Task A_peer_that_closes_ends_the_stream_and_is_not_a_lost_connection()
    {
        var (server, peer) = await ConnectedPairAsync();
        using var stream = new SocketStream(server);
        await peer.SendAsync(new byte[] { 9 });
        peer.Shutdown(SocketShutdown.Send);
        var buffer = new byte[8];
        Assert.Equal(1, await stream.ReadAsync(buffer).AsTask().WaitAsync(Patience));
        Assert.Equal(0, await stream.ReadAsync(buffer).AsTask().WaitAsync(Patience));
        Assert.False(stream.ConnectionLost);
        // The send side still works after the peer's FIN.
        await stream.WriteAsync(new byte[] { 7 }).AsTask().WaitAsync(Patience);
        Assert.Equal(1, await peer.ReceiveAsync(buffer).WaitAsync(Patience));
        peer.Dispose();
    }

    [Fact]
    public async Task Cancelling_a_pending_read_completes_it()
    {
        var (server, peer) = await ConnectedPairAsync();
        using var stream = new SocketStream(server);
        using var _ = peer;
        using var cancel = new CancellationTokenSource();
        // Nothing was sent, so the read is pending when the token fires.
        var pending = stream.ReadAsync(new byte[64], cancel.Token).AsTask();
        Assert.False(pending.IsCompleted);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending.WaitAsync(Patience));
        // A token cancelled before the read never starts one.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stream.ReadAsync(new byte[8], cancel.Token).AsTask());
    }

    [Fact]
    public async Task A_zero_byte_read_waits_for_data_and_consumes_none()
    {
        var (server, peer) = await ConnectedPairAsync();
        using var stream = new SocketStream(server);
        using var _ = peer;
        // Nothing was sent yet: the zero-byte read waits for readability.
        var waiting = stream.ReadAsync(Memory<byte>.Empty).AsTask();
        Assert.False(waiting.IsCompleted);
        await peer.SendAsync(new byte[] { 4, 5 });
        Assert.Equal(0, await waiting.WaitAsync(Patience));
        var buffer = new byte[8];
        Assert.Equal(2, await stream.ReadAsync(buffer).AsTask().WaitAsync(Patience));
        Assert.Equal(new byte[] { 4, 5 }, buffer[..2]);
    }

    [Fact]
    public async Task Disposing_the_stream_ends_a_pending_read()
    {
        var (server, peer) = await ConnectedPairAsync();
        using var _ = peer;
        var stream = new SocketStream(server);
        var pending = stream.ReadAsync(new byte[64]).AsTask();
        await stream.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => pending.WaitAsync(Patience));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => stream.ReadAsync(new byte[8]).AsTask());
    }
}
