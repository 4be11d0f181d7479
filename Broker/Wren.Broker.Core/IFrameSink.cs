
namespace Wren.Broker.Core;

/// <summary>
/// The routing core's view of one connection's outbound side. Implemented by the transport; the core never sees a socket.
/// </summary>
public interface IFrameSink
{
    /// <summary>
    /// Queues one encoded frame. Never blocks. Returns false when the connection is closed or was just closed because the
    /// queue passed its limit (the transport then sends SlowConsumer and closes).
    /// </summary>
    /// <remarks>The same array may be queued to many connections; it is never modified after it is queued.</remarks>
    bool TrySend(ReadOnlyMemory<byte> frame);

    /// <summary>Bytes queued and not yet written to the connection.</summary>
    long PendingBytes { get; }

    /// <summary>
    /// Completes when at most <paramref name="bytes"/> are queued, or when the connection closes. Catch-up streams wait
    /// on it so that replaying a long history never trips the slow-consumer limit meant for live traffic.
    /// </summary>
    Task WaitUntilPendingAtMostAsync(long bytes);

    /// <summary>Sends a final frame (Error or GoAway) after everything queued, then closes the connection.</summary>
    void Close(ReadOnlyMemory<byte> finalFrame);

    /// <summary>True when the peer connected from a loopback address.</summary>
    bool IsLoopback { get; }

    /// <summary>Remote address, for logs.</summary>
    string RemoteAddress { get; }
}
