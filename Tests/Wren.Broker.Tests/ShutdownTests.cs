using System.Diagnostics;
using Wren.Protocol;
using Wren.Protocol.Messages;

namespace Wren.Broker.Tests;

/// <summary>
/// Graceful shutdown (docs/protocol.md section 4 step 7, error code 111): stopping the server sends GoAway{ShuttingDown}
/// to every connection before closing it, and the stop completes within a bound.
/// </summary>
public class ShutdownTests
{
    private static readonly TimeSpan StopBound = TimeSpan.FromSeconds(15);

    /// <summary>How long after the stop begins a connection may wait for its GoAway.</summary>
    private static readonly TimeSpan GoAwayBound = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Regression: pins that GoAway goes out before Kestrel stops accepting and drains. Sent from a hosted service that
    /// stops after Kestrel, it comes only once Kestrel has waited out the host's shutdown timeout and reset every
    /// connection, so no client sees it.
    /// </summary>
    [Fact]
    public async Task Stop_sends_GoAway_ShuttingDown_to_every_session_then_closes_and_completes_in_bounded_time()
    {
        await using var broker = await TestBroker.StartAsync();
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");
        var carol = await broker.CreateUserAsync("carol");
        await using var a = await broker.ConnectAsync(alice.Token);
        await using var b = await broker.ConnectAsync(bob.Token);
        await using var raw = await RawConnection.ConnectAuthenticatedAsync(broker, carol.Token);

        var clock = Stopwatch.StartNew();
        var stop = broker.Server.StopAsync();
        try
        {
            await ExpectGoAwayThenCloseAsync(raw, clock);
            using var sdkWait = new CancellationTokenSource(GoAwayBound);
            Assert.Equal(ErrorCode.ShuttingDown, (await NextGoAwayAsync(a, sdkWait.Token)).Code);
            Assert.Equal(ErrorCode.ShuttingDown, (await NextGoAwayAsync(b, sdkWait.Token)).Code);
        }
        finally
        {
            await StopWithinBoundAsync(stop);
        }

        Assert.True(clock.Elapsed < StopBound, $"StopAsync took {clock.Elapsed}");
    }

    /// <summary>
    /// Regression: pins that a connection still in its handshake (Hello answered, no Auth yet) gets GoAway too (section 4
    /// step 7, section 9) and does not hold the stop up until the host's shutdown timeout.
    /// </summary>
    [Fact]
    public async Task Stop_sends_GoAway_to_a_connection_still_in_its_handshake_and_does_not_wait_for_it()
    {
        await using var broker = await TestBroker.StartAsync();
        await using var raw = await RawConnection.ConnectAsync(broker);
        await raw.HelloAsync();

        var clock = Stopwatch.StartNew();
        var stop = broker.Server.StopAsync();
        try
        {
            await ExpectGoAwayThenCloseAsync(raw, clock);
        }
        finally
        {
            await StopWithinBoundAsync(stop);
        }
    }

    private static async Task ExpectGoAwayThenCloseAsync(RawConnection raw, Stopwatch clock)
    {
        ReceivedFrame? frame;
        try
        {
            frame = await raw.TryReadFrameAsync(GoAwayBound);
        }
        catch (TimeoutException)
        {
            throw new Xunit.Sdk.XunitException($"no GoAway (and no close) within {GoAwayBound.TotalSeconds} s of the stop");
        }

        Assert.True(
            frame?.Message is GoAway { Code: ErrorCode.ShuttingDown } or Error { Code: ErrorCode.ShuttingDown },
            $"expected GoAway ShuttingDown, got {frame?.ToString() ?? $"a close without a frame ({raw.CloseReason})"} {clock.Elapsed.TotalSeconds:F1} s after the stop began");
        Assert.Equal(0u, frame!.Header.RequestId);
        await raw.ExpectClosedAsync();
    }

    private static async Task<GoAway> NextGoAwayAsync(Wren.Client.WrenClient client, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (await client.Events.ReadAsync(cancellationToken) is GoAway goAway)
            {
                return goAway;
            }
        }
    }

    private static async Task StopWithinBoundAsync(Task stop)
    {
        Assert.True(await Task.WhenAny(stop, Task.Delay(StopBound)) == stop, $"StopAsync did not complete within {StopBound}");
        await stop;
    }
}
