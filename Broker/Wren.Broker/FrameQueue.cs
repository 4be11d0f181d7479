namespace Wren.Broker;

/// <summary>
/// A connection's outbound frames: any number of threads enqueue, one writer at a time dequeues. A lock around a ring
/// that starts empty and is let go of once drained, so an idle connection holds an empty array instead of
/// <see cref="System.Collections.Concurrent.ConcurrentQueue{T}"/>'s first 32-slot segment (about 1 KiB per connection;
/// see docs/benchmarks.md, W4). The lock is held for a few instructions and is uncontended but for bursts.
/// </summary>
internal sealed class FrameQueue
{
    /// <summary>Slots kept after the queue drains; a larger ring (left by a burst) is released.</summary>
    private const int KeptCapacity = 16;

    private readonly Lock _lock = new();
    private ReadOnlyMemory<byte>[] _items = [];
    private int _head;
    private int _count;

    /// <summary>
    /// True when nothing is queued. Lock-free: callers order it against their own state with a full fence (the
    /// connection's writer hand-over), and an enqueue publishes the new count before it leaves the lock.
    /// </summary>
    public bool IsEmpty => Volatile.Read(ref _count) == 0;

    /// <summary>Slots allocated (0 for a connection that has nothing queued and had no burst).</summary>
    internal int Capacity
    {
        get
        {
            lock (_lock)
            {
                return _items.Length;
            }
        }
    }

    public void Enqueue(ReadOnlyMemory<byte> frame)
    {
        lock (_lock)
        {
            if (_count == _items.Length)
            {
                Grow();
            }

            int tail = _head + _count;
            _items[tail < _items.Length ? tail : tail - _items.Length] = frame;
            Volatile.Write(ref _count, _count + 1);
        }
    }

    public bool TryDequeue(out ReadOnlyMemory<byte> frame)
    {
        lock (_lock)
        {
            if (_count == 0)
            {
                frame = default;
                return false;
            }

            frame = _items[_head];
            _items[_head] = default;
            _head = _head + 1 == _items.Length ? 0 : _head + 1;
            Volatile.Write(ref _count, _count - 1);
            if (_count == 0)
            {
                _head = 0;
                if (_items.Length > KeptCapacity)
                {
                    _items = [];
                }
            }

            return true;
        }
    }

    private void Grow()
    {
        var larger = new ReadOnlyMemory<byte>[Math.Max(4, _items.Length * 2)];
        for (int i = 0; i < _count; i++)
        {
            int at = _head + i;
            larger[i] = _items[at < _items.Length ? at : at - _items.Length];
        }

        _items = larger;
        _head = 0;
    }
}
