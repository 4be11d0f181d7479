using Wren.Broker.Core;
using static Wren.Broker.WrenConnectionHandler;

namespace Wren.Broker.Tests;

/// <summary>
/// The sweep's keep-alive rules (<see cref="WrenConnectionHandler.Decide"/>), with times in milliseconds: ping interval
/// 1,000, idle timeout 1,900 (the tight gap of <c>IdleTimeoutTests</c>), handshake timeout 10,000. The connection
/// authenticated at t = 100 (its last frame) and has not been pinged since (last ping at accept, t = 0).
/// </summary>
public sealed class KeepAliveRuleTests
{
    private static readonly BrokerLimits Limits = new()
    {
        PingInterval = TimeSpan.FromMilliseconds(1000),
        IdleTimeout = TimeSpan.FromMilliseconds(1900),
        HandshakeTimeout = TimeSpan.FromMilliseconds(10_000),
    };

    private static SweepAction At(long now, long lastReceived = 100, long lastPing = 0, bool authenticated = true) =>
        Decide(now, authenticated, acceptedMs: 0, lastReceived, lastPing, Limits);

    [Fact]
    public void A_silent_connection_is_pinged_after_the_ping_interval_and_not_before()
    {
        Assert.Equal(SweepAction.None, At(now: 1000));
        Assert.Equal(SweepAction.Ping, At(now: 1150));
        // Pinged at 1,150: not pinged again within the interval.
        Assert.Equal(SweepAction.None, At(now: 1500, lastPing: 1150));
    }

    /// <summary>
    /// The regression a loaded machine showed: the timer ran the sweep late, first past the idle timeout, and the
    /// connection was closed without ever being pinged. Now that sweep pings it, and the client has the gap to answer.
    /// </summary>
    [Fact]
    public void A_late_sweep_pings_a_connection_it_never_pinged_instead_of_closing_it()
    {
        Assert.Equal(SweepAction.Ping, At(now: 2300));
        // Pinged at 2,300 and silent since: still open within the 900 ms gap, closed after it.
        Assert.Equal(SweepAction.None, At(now: 3000, lastPing: 2300));
        Assert.Equal(SweepAction.IdleTimeout, At(now: 3250, lastPing: 2300));
    }

    [Fact]
    public void A_ping_answered_in_time_keeps_the_connection_and_an_unanswered_one_closes_it()
    {
        // Pinged at 1,100, answered at 1,200: the silence restarts.
        Assert.Equal(SweepAction.None, At(now: 2100, lastReceived: 1200, lastPing: 1100));
        Assert.Equal(SweepAction.Ping, At(now: 2300, lastReceived: 1200, lastPing: 1100));
        // Pinged at 1,100 and never answered: closed once the idle timeout and the gap have both passed.
        Assert.Equal(SweepAction.IdleTimeout, At(now: 2050, lastPing: 1100));
    }

    [Fact]
    public void Repeated_pings_do_not_postpone_the_close_when_the_gap_is_longer_than_the_interval()
    {
        var longGap = new BrokerLimits { PingInterval = TimeSpan.FromMilliseconds(1000), IdleTimeout = TimeSpan.FromMilliseconds(3000) };
        // Re-pinged every interval (latest at 2,150): closed once 3,000 ms silent and a whole interval after that ping.
        Assert.Equal(SweepAction.None, Decide(3050, true, 0, 100, 2150, longGap));
        Assert.Equal(SweepAction.IdleTimeout, Decide(3200, true, 0, 100, 2150, longGap));
    }

    [Fact]
    public void Unauthenticated_connections_answer_to_the_handshake_timeout_first()
    {
        Assert.Equal(SweepAction.None, At(now: 1500, authenticated: false));
        Assert.Equal(SweepAction.HandshakeTimeout, At(now: 10_001, authenticated: false));
    }
}
