using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Wren.Broker.Tests;

/// <summary>
/// A TLS connection's native buffers after large records: OpenSSL's memory BIOs keep the largest buffer they ever
/// needed until the broker gives it back, and the connection keeps working after that.
/// </summary>
public sealed class OpenSslBuffersTests
{
    private const int Keep = 4096;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public void The_bio_buffers_can_be_given_back_on_this_runtime()
    {
        // The broker runs on Linux with OpenSSL: a runtime whose SslStream layout no longer matches fails here rather
        // than silently keeping every connection's grown buffers.
        Assert.True(OperatingSystem.IsLinux());
        Assert.True(OpenSslBuffers.CanShrinkBios);
        Assert.True(OpenSslBuffers.IsSupported);
    }

    [Fact]
    public async Task Large_records_grow_the_bios_and_shrinking_gives_the_memory_back_without_breaking_the_stream()
    {
        await using var pair = await TlsPair.CreateAsync();
        var payload = RandomNumberGenerator.GetBytes(64 * 1024);
        await pair.ExchangeAsync(payload);

        // The control: without a shrink, the server's write BIO holds more than a 16 KiB record and its read BIO about one.
        var grown = OpenSslBuffers.IdleBioCapacity(pair.Server);
        Assert.True(grown.Write > 16 * 1024, $"write BIO {grown.Write} bytes");
        Assert.True(grown.Read > 16 * 1024, $"read BIO {grown.Read} bytes");

        long released = OpenSslBuffers.TryShrinkIdleBios(pair.Server, Keep);
        Assert.Equal(grown.Read + grown.Write, released);
        var shrunk = OpenSslBuffers.IdleBioCapacity(pair.Server);
        Assert.True(shrunk.Read <= Keep && shrunk.Write <= Keep, $"after: read {shrunk.Read}, write {shrunk.Write}");
        Assert.Equal(0, OpenSslBuffers.TryShrinkIdleBios(pair.Server, Keep));

        // Both directions still carry every byte, in order, after the swap.
        await pair.ExchangeAsync(payload);
    }

    [Fact]
    public async Task Small_records_leave_the_bios_alone()
    {
        await using var pair = await TlsPair.CreateAsync();
        await pair.ExchangeAsync(new byte[300]);
        Assert.Equal(0, OpenSslBuffers.TryShrinkIdleBios(pair.Server, Keep));
    }

    [Fact]
    public async Task Shrinking_while_the_stream_reads_and_writes_loses_nothing()
    {
        await using var pair = await TlsPair.CreateAsync();
        var payload = RandomNumberGenerator.GetBytes(256 * 1024);
        using var stop = new CancellationTokenSource();
        // The sweep's call races the connection's own encryption and decryption; the stream's lock orders them.
        var shrinking = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                OpenSslBuffers.TryShrinkIdleBios(pair.Server, Keep);
                await Task.Yield();
            }
        });
        for (int i = 0; i < 5; i++)
        {
            await pair.ExchangeAsync(payload);
        }

        stop.Cancel();
        await shrinking;
    }

    [Fact]
    public async Task The_sweep_gives_back_a_connections_grown_buffers()
    {
        await using var broker = await TestBroker.StartAsync();
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");
        await using var a = await broker.ConnectAsync(alice.Token);
        await using var b = await broker.ConnectAsync(bob.Token);
        var direct = await a.OpenDirectAsync(bob.User.UserId);

        // 60 KiB in (alice's connection reads it) and out (bob's and alice's own copies).
        await a.SendAsync(direct.ConversationId, RandomNumberGenerator.GetBytes(60 * 1024));
        await Await.DeliveriesAsync(b, 1);

        var connections = broker.Server.Connections.ToArray();
        Assert.Equal(2, connections.Length);
        // The sweep (at most a second apart) gives the grown buffers back; nothing signals it, so the test watches.
        static bool Small((long Read, long Write) capacity) => capacity.Read is >= 0 and <= Keep && capacity.Write is >= 0 and <= Keep;
        await Await.UntilAsync(() => connections.All(c => Small(c.TlsBioCapacity)), "the sweep to shrink both connections' BIO buffers");

        // The connections still work: another large message both ways.
        await b.SendAsync(direct.ConversationId, RandomNumberGenerator.GetBytes(60 * 1024));
        await Await.DeliveriesAsync(a, 2);
    }

    /// <summary>A server and a client SslStream over loopback sockets, with a self-signed P-256 certificate.</summary>
    private sealed class TlsPair : IAsyncDisposable
    {
        private TlsPair(SslStream server, SslStream client)
        {
            Server = server;
            Client = client;
        }

        public SslStream Server { get; }

        public SslStream Client { get; }

        public static async Task<TlsPair> CreateAsync()
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            using var ephemeral = new CertificateRequest("CN=wren-test", key, HashAlgorithmName.SHA256)
                .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            var certificate = X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
            var (serverSocket, clientSocket) = await LoopbackSockets.PairAsync();
            var server = new SslStream(new SocketStream(serverSocket));
            // The client pins the test certificate, as the SDK pins the broker's.
            string pinned = certificate.GetCertHashString(HashAlgorithmName.SHA256);
            var client = new SslStream(new NetworkStream(clientSocket, ownsSocket: true), false,
                (_, presented, _, _) => presented is not null && presented.GetCertHashString(HashAlgorithmName.SHA256) == pinned);
            await Task.WhenAll(
                server.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificateContext = SslStreamCertificateContext.Create(certificate, null, offline: true),
                }),
                client.AuthenticateAsClientAsync("wren-test"));
            OpenSslBuffers.TryReleaseWhenIdle(server);
            return new TlsPair(server, client);
        }

        /// <summary>Sends <paramref name="payload"/> server to client, then client to server, and checks both copies.</summary>
        public async Task ExchangeAsync(byte[] payload)
        {
            await Transfer(Server, Client, payload).WaitAsync(Patience);
            await Transfer(Client, Server, payload).WaitAsync(Patience);
        }

        private static async Task Transfer(SslStream from, SslStream to, byte[] payload)
        {
            var write = from.WriteAsync(payload).AsTask();
            var received = new byte[payload.Length];
            int got = 0;
            while (got < received.Length)
            {
                int n = await to.ReadAsync(received.AsMemory(got));
                Assert.NotEqual(0, n);
                got += n;
            }

            await write;
            Assert.Equal(payload, received);
        }

        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            await Server.DisposeAsync();
        }
    }
}
