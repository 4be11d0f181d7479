
namespace Wren.Broker.Core;

/// <summary>
/// The routing core's view of one connection's outbound side. Implemented by the transport; the core never sees a socket.
/// </summary>
public interface IFrameSink
{
    /// <summary>
    /// Queues one encoded frame, or several whole frames back to back (a catch-up batch), and makes sure it gets
    /// written. Never blocks. Returns false when the connection is closed or was just closed because the queue passed
    /// its limit (the transport then sends SlowConsumer and closes).
    /// </summary>
    /// <remarks>
    /// <para>The same memory may be queued to many connections; it is never modified while it is queued.</para>
    /// <para>
    /// Pooled frames: when <c>MemoryMarshal.TryGetMemoryManager(frame, out SharedFrame? shared)</c> is true, the caller
    /// has added a reference for this sink (<see cref="SharedFrame.AddRef"/>). On true, the sink owns that reference
    /// and calls <see cref="SharedFrame.Release"/> exactly once, after it has written the frame or discarded it (closed
    /// connection, dropped queue); it must not touch the memory afterwards, since the buffer may already hold another
    /// frame. On false, the caller releases it, and the sink must not. A sink that never releases (a test fake keeping
    /// frames) is safe: the frame then never returns to the pool and the garbage collector reclaims it.
    /// </para>
    /// </remarks>
    bool TrySend(ReadOnlyMemory<byte> frame);

    /// <summary>
    /// Queues a frame as <see cref="TrySend"/> does (same result, same reference rules) but leaves the writing to the
    /// next <see cref="Flush"/>, so that a routing loop can queue a burst to many connections and then write each
    /// connection's share in one go, on its own thread.
    /// </summary>
    bool TryQueue(ReadOnlyMemory<byte> frame) => TrySend(frame);

    /// <summary>
    /// Writes what <see cref="TryQueue"/> left queued. Never blocks: the transport writes on the calling thread while the
    /// socket takes the bytes at once and continues in the background when it does not.
    /// </summary>
    void Flush()
    {
    }

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
