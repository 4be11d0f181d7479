using Microsoft.Extensions.Logging;
using Wren.Protocol;

namespace Wren.Broker.Tests;

/// <summary>
/// Invariant 8 (bounded everything), connection limits: past MaxConnectionsPerAddress or MaxConnections a new
/// connection gets Error TooManyConnections (110) and is closed; the connections already in are untouched; a slot that
/// frees up is usable again.
/// </summary>
public class LimitTests
{
    private const int Limit = 3;

    [Fact]
    public Task Connection_over_MaxConnectionsPerAddress_gets_TooManyConnections_and_is_closed() =>
        CrossLimitAsync(o => o.MaxConnectionsPerAddress = Limit);

    [Fact]
    public Task Connection_over_MaxConnections_gets_TooManyConnections_and_is_closed() =>
        CrossLimitAsync(o => o.MaxConnections = Limit);

    private static async Task CrossLimitAsync(Action<WrenOptions> configure)
    {
        await using var broker = await TestBroker.StartAsync(configure);
        var held = new List<RawConnection>();
        try
        {
            for (int i = 0; i < Limit; i++)
            {
                var connection = await RawConnection.ConnectAsync(broker);
                held.Add(connection);
                // Welcome proves the broker has counted this connection before the next one arrives.
                await connection.HelloAsync();
            }

            await using (var over = await RawConnection.ConnectAsync(broker))
            {
                await over.ExpectErrorThenCloseAsync(ErrorCode.TooManyConnections, requestId: 0);
            }

            // The connections inside the limit still work (Ping is allowed before Auth).
            foreach (var connection in held)
            {
                await connection.PingAsync();
            }

            // Freeing one slot lets a new connection in, once the broker has seen the close.
            await held[0].DisposeAsync();
            held.RemoveAt(0);
            await using var replacement = await ConnectWhenAdmittedAsync(broker);
            await replacement.PingAsync();
        }
        finally
        {
            foreach (var connection in held)
            {
                await connection.DisposeAsync();
            }
        }

        // The refusal is client-caused: logged, but not above Information.
        Assert.Contains(broker.Logs.Entries, e => e.Category.StartsWith("Wren.Broker", StringComparison.Ordinal) && e.Message.Contains("refused", StringComparison.Ordinal));
        Assert.DoesNotContain(broker.Logs.Entries, e => e.Message.Contains("refused", StringComparison.Ordinal) && e.Level > LogLevel.Information);
    }

    /// <summary>Connects until the broker answers Hello with Welcome rather than TooManyConnections (it releases a slot when the old connection's task ends).</summary>
    private static async Task<RawConnection> ConnectWhenAdmittedAsync(TestBroker broker)
    {
        var deadline = DateTime.UtcNow + Await.Timeout;
        while (true)
        {
            var connection = await RawConnection.ConnectAsync(broker);
            uint id = connection.NextRequestId();
            await connection.SendAsync(id, new Protocol.Messages.Hello { ClientName = "raw" });
            var answer = await connection.TryReadFrameAsync();
            if (answer?.Message is Protocol.Messages.Welcome)
            {
                return connection;
            }

            await connection.DisposeAsync();
            Assert.True(
                answer?.Message is Protocol.Messages.Error { Code: ErrorCode.TooManyConnections } || answer is null,
                $"expected Welcome or TooManyConnections, got {answer}");
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("a freed connection slot was never reused");
            }

            await Task.Delay(20);
        }
    }
}
