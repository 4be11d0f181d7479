using System.Diagnostics;
using Wren.Protocol;
using Wren.Protocol.Messages;

namespace Wren.Client;

/// <summary>
/// Keep-alive (docs/protocol.md §4.6): the client pings every ping interval, and treats a connection on which no byte
/// arrived for the server's idle timeout as dead: it drops it, which fails the requests waiting on it and lets the
/// client reconnect (AutoReconnect) and resend its unacknowledged sends. This catches a server that stopped answering
/// while the TCP connection stays open (a stopped process, a silent network partition).
/// </summary>
public sealed partial class WrenClient
{
    private long _lastReceived;
    private int _idleDrops;

    /// <summary>Connections this client dropped because nothing arrived for the server's idle timeout.</summary>
    public int IdleDrops => Volatile.Read(ref _idleDrops);

    /// <summary>Records that bytes arrived on the current connection.</summary>
    private void MarkReceived() => Volatile.Write(ref _lastReceived, Stopwatch.GetTimestamp());

    /// <summary>Starts the keep-alive of one connection; it ends with the connection's read loop.</summary>
    private void StartKeepAlive(Stream stream, Task readLoop)
    {
        if (Welcome?.Limits is not { IdleTimeoutMs: > 0 } limits)
        {
            return;
        }

        MarkReceived();
        var idle = TimeSpan.FromMilliseconds(limits.IdleTimeoutMs);
        // Ping often enough that the server hears from us within its idle timeout and our Pong refreshes our own timer.
        var ping = TimeSpan.FromMilliseconds(limits.PingIntervalMs > 0 ? Math.Min(limits.PingIntervalMs, limits.IdleTimeoutMs / 2.0) : limits.IdleTimeoutMs / 2.0);
        _ = KeepAliveAsync(stream, readLoop, ping, idle, _disposing.Token);
    }

    private async Task KeepAliveAsync(Stream stream, Task readLoop, TimeSpan ping, TimeSpan idle, CancellationToken cancellationToken)
    {
        // A quarter of the ping interval (50 ms to 1 s) keeps both deadlines within 25 % of their value.
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Math.Clamp(ping.TotalMilliseconds / 4, 50, 1000)));
        var lastPing = Stopwatch.GetTimestamp();
        try
        {
            while (!readLoop.IsCompleted && await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                if (readLoop.IsCompleted)
                {
                    return;
                }

                var now = Stopwatch.GetTimestamp();
                if (Stopwatch.GetElapsedTime(Volatile.Read(ref _lastReceived), now) >= idle)
                {
                    // Dead: closing the stream ends the read loop, which fails waiting requests; the supervisor reconnects.
                    Interlocked.Increment(ref _idleDrops);
                    DisposeStream(stream);
                    return;
                }

                if (Stopwatch.GetElapsedTime(lastPing, now) >= ping)
                {
                    lastPing = now;
                    SendKeepAlivePing();
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            // The client is being disposed.
        }
    }

    /// <summary>Sends a Ping under its own request id, so its Pong is consumed here and not pushed to <see cref="Events"/>.</summary>
    private void SendKeepAlivePing()
    {
        uint id = NextRequestId();
        var pong = new TaskCompletionSource<IMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        _requests[id] = pong;
        _ = pong.Task.ContinueWith(
            t =>
            {
                _ = t.Exception;
                _requests.TryRemove(id, out _);
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        _ = WriteAsync(id, EmptyMessage.Ping).ContinueWith(
            t =>
            {
                if (t.Exception is not null)
                {
                    // Not written (the connection is going away): nothing will answer it.
                    pong.TrySetCanceled();
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }
}
