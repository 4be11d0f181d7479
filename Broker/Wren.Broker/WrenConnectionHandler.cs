using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Wren.Broker.Core;
using Wren.Protocol;

namespace Wren.Broker;

/// <summary>
/// Takes connections from <see cref="WrenListener"/> (already through TLS), enforces the connection limits, runs each
/// connection, and sweeps all of them for handshake and idle timeouts and keep-alive pings (one timer for all).
/// </summary>
internal sealed class WrenConnectionHandler : IDisposable
{
    private readonly BrokerCore _core;
    private readonly WrenOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<WrenConnection, byte> _connections = new();
    private readonly ConcurrentDictionary<IPAddress, int> _perAddress = new();
    private readonly KeyedRateLimiter<IPAddress> _connectionRate;
    private readonly Timer _sweep;
    private int _count;

    public WrenConnectionHandler(BrokerCore core, IOptions<WrenOptions> options, ILogger<WrenConnectionHandler> logger)
    {
        _core = core;
        _options = options.Value;
        _logger = logger;
        var limits = core.Limits;
        _connectionRate = new KeyedRateLimiter<IPAddress>(limits.ConnectionsPerAddressPerSecond, limits.ConnectionsPerAddressPerSecond * 2);

        // A quarter of the shortest timeout (at most 1 s) keeps every deadline within 25 % of its value.
        long shortest = (long)Math.Min(limits.HandshakeTimeout.TotalMilliseconds, Math.Min(limits.PingInterval.TotalMilliseconds, limits.IdleTimeout.TotalMilliseconds - limits.PingInterval.TotalMilliseconds));
        var period = TimeSpan.FromMilliseconds(Math.Clamp(shortest / 4, 50, 1000));
        _sweep = new Timer(_ => Sweep(), null, period, period);
    }

    public int Count => Volatile.Read(ref _count);

    /// <summary>The connections running now (for tests and diagnostics).</summary>
    internal ICollection<WrenConnection> Connections => _connections.Keys;

    /// <summary>How long a connection has from TCP accept to a completed Auth, TLS handshake included.</summary>
    public TimeSpan HandshakeTimeout => _core.Limits.HandshakeTimeout;

    /// <summary>Runs one connection until it ends; the caller closes the socket afterwards.</summary>
    public async Task RunAsync(Socket socket, Stream stream, long acceptedMs)
    {
        var connection = new WrenConnection(socket, stream, acceptedMs, _core, _options.MaxFrameLength, _logger);
        int total = Interlocked.Increment(ref _count);
        int fromAddress = _perAddress.AddOrUpdate(connection.RemoteIp, 1, static (_, n) => n + 1);
        try
        {
            if (_core.IsShuttingDown)
            {
                connection.Session.Fail(ErrorCode.ShuttingDown, "server shutting down");
            }
            else if (total > _options.MaxConnections || fromAddress > _options.MaxConnectionsPerAddress)
            {
                HostLog.ConnectionRefused(_logger, connection.RemoteAddress, total, fromAddress);
                connection.Session.Fail(ErrorCode.TooManyConnections, "connection limit reached");
            }
            else if ((_core.Limits.LimitLoopbackConnectionRate || !IPAddress.IsLoopback(connection.RemoteIp))
                && _connectionRate.TryTake(connection.RemoteIp, Environment.TickCount64) is var wait and > 0)
            {
                // Too many new connections from this address: told when to come back, then closed before Hello.
                connection.Session.Sink.Close(Frames.Error(0, ErrorCode.RateLimited, "too many new connections from this address", wait));
            }

            _connections.TryAdd(connection, 0);
            await connection.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            _connections.TryRemove(connection, out _);
            Interlocked.Decrement(ref _count);
            _perAddress.AddOrUpdate(connection.RemoteIp, 0, static (_, n) => n - 1);
            _perAddress.TryRemove(new KeyValuePair<IPAddress, int>(connection.RemoteIp, 0));
        }
    }

    /// <summary>Closes every connection, authenticated or still in its handshake, with GoAway (first phase of shutdown).</summary>
    public void CloseAll(ReadOnlyMemory<byte> goAway)
    {
        foreach (var connection in _connections.Keys)
        {
            connection.Close(goAway);
        }
    }

    private void Sweep()
    {
        long now = Environment.TickCount64;
        var limits = _core.Limits;
        foreach (var connection in _connections.Keys)
        {
            if (connection.IsClosing)
            {
                continue;
            }

            connection.ShrinkTlsBuffersAfterLargeTraffic();
            switch (Decide(now, connection.Session.IsAuthenticated, connection.AcceptedMs, connection.LastReceivedMs, connection.LastPingMs, limits))
            {
                case SweepAction.HandshakeTimeout:
                    connection.Session.Fail(ErrorCode.HandshakeTimeout, "handshake not completed in time");
                    break;
                case SweepAction.IdleTimeout:
                    connection.Session.Fail(ErrorCode.IdleTimeout, "no traffic");
                    break;
                case SweepAction.Ping:
                    connection.LastPingMs = now;
                    connection.TrySend(PingFrame);
                    break;
            }
        }
    }

    /// <summary>What one sweep does to one connection.</summary>
    internal enum SweepAction
    {
        None,
        Ping,
        IdleTimeout,
        HandshakeTimeout,
    }

    /// <summary>
    /// The keep-alive rules for one connection at <paramref name="now"/> (all times in
    /// <see cref="Environment.TickCount64"/> milliseconds). A connection silent for the ping interval is pinged (once per
    /// interval). One silent for the idle timeout is closed, but an authenticated one only after a Ping sent since its
    /// last frame has gone unanswered for the gap between the two timeouts (at most a ping interval): a sweep that runs
    /// late (a loaded machine delays the timer) then pings instead of closing a client it never gave the chance to
    /// answer, so a client that answers every Ping is never closed for idleness. When the ping interval is not below the
    /// idle timeout no Ping comes first and the idle timeout alone decides.
    /// </summary>
    internal static SweepAction Decide(long now, bool authenticated, long acceptedMs, long lastReceivedMs, long lastPingMs, BrokerLimits limits)
    {
        long idle = now - lastReceivedMs;
        long idleLimit = (long)limits.IdleTimeout.TotalMilliseconds;
        long pingEvery = (long)limits.PingInterval.TotalMilliseconds;
        if (!authenticated)
        {
            if (now - acceptedMs > limits.HandshakeTimeout.TotalMilliseconds)
            {
                return SweepAction.HandshakeTimeout;
            }

            return idle > idleLimit ? SweepAction.IdleTimeout : SweepAction.None;
        }

        // The latest Ping, sent since the last frame, has had the gap between the timeouts to be answered (or a whole
        // ping interval, when the gap is longer: an unanswered Ping is repeated every interval, which must not keep
        // postponing the close).
        bool pingUnanswered = lastPingMs >= lastReceivedMs && now - lastPingMs >= Math.Min(idleLimit - pingEvery, pingEvery);
        if (idle > idleLimit && (pingEvery >= idleLimit || pingUnanswered))
        {
            return SweepAction.IdleTimeout;
        }

        return idle > pingEvery && now - lastPingMs > pingEvery ? SweepAction.Ping : SweepAction.None;
    }

    private static readonly byte[] PingFrame = CreatePing();

    private static byte[] CreatePing()
    {
        var frame = new byte[FrameHeader.Size];
        FrameWriter.WriteHeader(frame, MessageType.Ping, 0, 0);
        return frame;
    }

    public void Dispose() => _sweep.Dispose();
}
