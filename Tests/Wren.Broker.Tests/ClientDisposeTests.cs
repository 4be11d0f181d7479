namespace Wren.Broker.Tests;

/// <summary>Closing a client while its connection is closing too.</summary>
public class ClientDisposeTests
{
    /// <summary>
    /// Pins the crash where the read loop, <c>SimulateDisconnect</c> and <c>DisposeAsync</c> disposed the same TLS stream
    /// from several threads at once and <c>SslStream</c> threw a NullReferenceException out of <c>DisposeAsync</c>.
    /// </summary>
    [Fact]
    public async Task Disposing_while_the_connection_closes_never_throws()
    {
        await using var broker = await TestBroker.StartAsync();
        var alice = await broker.CreateUserAsync("alice");
        for (int i = 0; i < 50; i++)
        {
            var client = await broker.ConnectAsync(alice.Token, o => o.AutoReconnect = false);
            var disconnect = Task.Run(client.SimulateDisconnect);
            await client.DisposeAsync();
            await disconnect;
        }
    }
}
