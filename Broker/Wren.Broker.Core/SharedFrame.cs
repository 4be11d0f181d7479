using System.Buffers;
using System.Diagnostics;

namespace Wren.Broker.Core;

/// <summary>
/// One encoded frame in a pooled buffer, queued to many connections at once and returned to the pool when the last of
/// them has released it. Live fan-out encodes each committed entry into one of these.
/// </summary>
/// <remarks>
/// <para>
/// Reference counting: <see cref="Rent"/> returns a frame holding one reference, the renter's. A holder that hands the
/// frame on (queues <see cref="MemoryManager{T}.Memory"/> to a sink) calls <see cref="AddRef"/> first, on behalf of the
/// receiver; every holder calls <see cref="Release"/> exactly once when it is done with the frame (written, discarded,
/// or refused). The release that brings the count to zero returns the buffer to <see cref="ArrayPool{T}.Shared"/> and
/// the frame object to a small pool; the frame's memory must not be read after its holder released it.
/// </para>
/// <para>
/// A holder that never releases only keeps the frame out of the pool: the garbage collector reclaims it, and no other
/// frame can reuse its buffer while a reference is outstanding. Releasing more often than referenced is a bug (the
/// buffer could be reused while a connection still writes it); Debug builds assert on it, and a release that would take
/// the count below zero never returns the frame to the pool a second time.
/// </para>
/// <para>
/// Thread safety: <see cref="AddRef"/> and <see cref="Release"/> may be called from any thread. The contents are
/// written once, by the renter, before the frame is handed on, and never change while a reference is held.
/// </para>
/// </remarks>
public sealed class SharedFrame : MemoryManager<byte>
{
    // Frame objects kept for reuse (their buffers go back to the array pool). Each costs a few dozen bytes; frames
    // released while the pool is full are left to the garbage collector.
    private const int PoolCapacity = 1024;

    private static readonly Lock PoolGate = new();
    private static readonly SharedFrame?[] Pool = new SharedFrame?[PoolCapacity];
    private static int s_pooled;

    private byte[] _buffer = [];
    private int _length;
    private int _references;

    private SharedFrame()
    {
    }

    /// <summary>Length of the frame in bytes.</summary>
    public int Length => _length;

    /// <summary>References currently held (for tests and assertions; racy while other threads hold the frame).</summary>
    internal int References => Volatile.Read(ref _references);

    /// <summary>The pooled buffer; the frame is its first <see cref="Length"/> bytes. For the renter, to write the contents.</summary>
    internal byte[] Buffer => _buffer;

    /// <summary>Rents a frame of <paramref name="length"/> bytes holding one reference (the caller's).</summary>
    /// <remarks>The contents are undefined (a reused buffer) until the caller writes them.</remarks>
    public static SharedFrame Rent(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        SharedFrame? frame = null;
        lock (PoolGate)
        {
            if (s_pooled > 0)
            {
                frame = Pool[--s_pooled];
                Pool[s_pooled] = null;
            }
        }

        frame ??= new SharedFrame();
        frame._buffer = ArrayPool<byte>.Shared.Rent(length);
        frame._length = length;
        Volatile.Write(ref frame._references, 1);
        return frame;
    }

    /// <summary>Adds a reference, on behalf of a holder the frame is about to be handed to.</summary>
    /// <remarks>Only a current holder may call it: a frame whose count reached zero is already back in the pool.</remarks>
    public void AddRef()
    {
        int references = Interlocked.Increment(ref _references);
        Debug.Assert(references > 1, "AddRef on a SharedFrame that was already returned to the pool.");
    }

    /// <summary>Drops one reference; the last one returns the frame and its buffer to their pools.</summary>
    public void Release()
    {
        int references = Interlocked.Decrement(ref _references);
        if (references == 0)
        {
            Return();
        }
        else
        {
            Debug.Assert(references > 0, "SharedFrame released more often than it was referenced.");
        }
    }

    /// <inheritdoc/>
    public override Span<byte> GetSpan() => _buffer.AsSpan(0, _length);

    /// <inheritdoc/>
    public override MemoryHandle Pin(int elementIndex = 0) => _buffer.AsMemory(elementIndex, _length - elementIndex).Pin();

    /// <inheritdoc/>
    /// <remarks>Nothing to do: <see cref="Pin"/> hands out the array's own handle, which unpins itself.</remarks>
    public override void Unpin()
    {
    }

    /// <inheritdoc/>
    /// <remarks>The frame is array-backed, so sockets and streams can write it without pinning.</remarks>
    protected override bool TryGetArray(out ArraySegment<byte> segment)
    {
        segment = new ArraySegment<byte>(_buffer, 0, _length);
        return true;
    }

    /// <inheritdoc/>
    /// <remarks>Nothing to do: the frame's lifetime is its reference count (<see cref="Release"/>), not disposal.</remarks>
    protected override void Dispose(bool disposing)
    {
    }

    private void Return()
    {
        byte[] buffer = _buffer;
        _buffer = [];
        _length = 0;
        ArrayPool<byte>.Shared.Return(buffer);
        lock (PoolGate)
        {
            if (s_pooled < PoolCapacity)
            {
                Pool[s_pooled++] = this;
            }
        }
    }
}
