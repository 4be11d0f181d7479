using System.Diagnostics;
using Wren.Protocol;
using Wren.Protocol.Messages;

namespace Wren.Broker.Tests;

/// <summary>
/// Invariant 8, the handshake timeout (docs/protocol.md section 4 step 4; the TLS handshake counts): silent, slow and
/// half-finished handshakes end with HandshakeTimeout (105) and a close. Timeouts are set small through options; the
/// broker checks them in a periodic sweep of at most one second, so each bound allows the timeout plus a second plus a
/// margin.
/// </summary>
public class TimeoutTests
{
    /// <summary>The longest sweep period the broker uses.</summary>
    private static readonly TimeSpan Sweep = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task Silent_connection_after_TLS_gets_HandshakeTimeout_then_close()
    {
        var handshake = TimeSpan.FromSeconds(1);
        await using var broker = await TestBroker.StartAsync(o => o.Limits.HandshakeTimeout = handshake);
        var clock = Stopwatch.StartNew();
        await using var raw = await RawConnection.ConnectAsync(broker);

        await raw.ExpectErrorThenCloseAsync(ErrorCode.HandshakeTimeout, requestId: 0, timeout: handshake + Sweep + Margin);
        Assert.True(clock.Elapsed >= handshake - TimeSpan.FromMilliseconds(100), $"closed after {clock.Elapsed}, before the {handshake} timeout");
    }

    [Fact]
    public async Task Connection_that_sends_Hello_but_never_Auth_gets_HandshakeTimeout_then_close()
    {
        var handshake = TimeSpan.FromSeconds(1);
        await using var broker = await TestBroker.StartAsync(o => o.Limits.HandshakeTimeout = handshake);
        await using var raw = await RawConnection.ConnectAsync(broker);
        var welcome = await raw.HelloAsync();
        Assert.Equal((uint)handshake.TotalMilliseconds, welcome.Limits.HandshakeTimeoutMs);

        await raw.ExpectErrorThenCloseAsync(ErrorCode.HandshakeTimeout, requestId: 0, timeout: handshake + Sweep + Margin);
    }

    [Fact]
    public async Task Slowloris_Hello_one_byte_per_300_ms_is_closed_by_the_handshake_timeout()
    {
        var handshake = TimeSpan.FromSeconds(1);
        await using var broker = await TestBroker.StartAsync(o => o.Limits.HandshakeTimeout = handshake);
        await using var raw = await RawConnection.ConnectAsync(broker);
        byte[] hello = FrameWriter.ToArray(1, new Hello { ClientName = "slowloris", ClientVersion = "1" });
        var clock = Stopwatch.StartNew();

        var dribble = Task.Run(async () =>
        {
            foreach (byte b in hello)
            {
                if (raw.IsClosed)
                {
                    return;
                }

                try
                {
                    await raw.SendAsync(new[] { b });
                }
                catch (IOException)
                {
                    return;
                }

                await Task.Delay(300);
            }
        });

        await raw.ExpectErrorThenCloseAsync(ErrorCode.HandshakeTimeout, requestId: 0, timeout: handshake + Sweep + Margin);
        Assert.True(clock.Elapsed < TimeSpan.FromMilliseconds(300 * hello.Length), "the Hello completed before the close; the test proves nothing");
        await dribble;
    }

    [Fact]
    public async Task Plain_TCP_client_that_never_starts_TLS_is_closed_within_the_handshake_timeout()
    {
        var handshake = TimeSpan.FromSeconds(1);
        await using var broker = await TestBroker.StartAsync(o => o.Limits.HandshakeTimeout = handshake);
        await using var raw = await RawConnection.ConnectAsync(broker, tls: false);

        await raw.ExpectClosedAsync(handshake + Margin);
        await ServingCheck.AssertStillServesAsync(broker);
    }

    /// <summary>
    /// Regression: pins docs/protocol.md section 4 step 4, "from TCP accept to AuthOk … the TLS handshake counts". A
    /// client that spends most of the budget before its TLS ClientHello is cut off at the budget (plus the sweep), not
    /// given a fresh budget when the connection handler starts after TLS.
    /// </summary>
    [Fact]
    public async Task Handshake_timeout_counts_from_TCP_accept_including_the_TLS_handshake()
    {
        var handshake = TimeSpan.FromSeconds(4);
        var beforeTls = TimeSpan.FromSeconds(3);
        await using var broker = await TestBroker.StartAsync(o => o.Limits.HandshakeTimeout = handshake);
        var clock = Stopwatch.StartNew();
        await using var raw = await RawConnection.ConnectAsync(broker, tls: true, delayBeforeTls: beforeTls);

        var deadline = handshake + Sweep + TimeSpan.FromMilliseconds(800);
        var frame = await raw.TryReadFrameAsync(TimeSpan.FromSeconds(10));
        var elapsed = clock.Elapsed;
        Assert.True(frame?.Message is Error { Code: ErrorCode.HandshakeTimeout }, $"expected HandshakeTimeout, got {frame?.ToString() ?? "a close"}");
        Assert.True(
            elapsed <= deadline,
            $"HandshakeTimeout arrived {elapsed.TotalSeconds:F1} s after TCP connect; the budget is {handshake.TotalSeconds} s from accept (plus the 1 s sweep), TLS included");
    }
}
