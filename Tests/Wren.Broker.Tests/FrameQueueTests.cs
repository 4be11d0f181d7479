using System.Runtime.InteropServices;

namespace Wren.Broker.Tests;

/// <summary>The connection's outbound queue: FIFO through growth and wrap-around, safe for many producers, and small when idle.</summary>
public sealed class FrameQueueTests
{
    private static readonly byte[] Backing = new byte[1 << 20];

    /// <summary>A frame whose identity is its offset in <see cref="Backing"/>.</summary>
    private static ReadOnlyMemory<byte> Frame(int id) => new(Backing, id, 1);

    private static int Id(ReadOnlyMemory<byte> frame) =>
        MemoryMarshal.TryGetArray(frame, out var segment) ? segment.Offset : throw new InvalidOperationException("not a test frame");

    [Fact]
    public void Frames_leave_in_order_through_growth_and_wrap_around()
    {
        var queue = new FrameQueue();
        var expected = new Queue<int>();
        int next = 0;
        // Interleaved enqueues and dequeues move the head around the ring while it grows from 4 to 64 slots.
        foreach (var (add, take) in new[] { (3, 2), (10, 4), (1, 5), (40, 7), (2, 30), (20, 0) })
        {
            for (int i = 0; i < add; i++)
            {
                queue.Enqueue(Frame(next));
                expected.Enqueue(next++);
            }

            for (int i = 0; i < take; i++)
            {
                Assert.True(queue.TryDequeue(out var frame));
                Assert.Equal(expected.Dequeue(), Id(frame));
            }

            Assert.Equal(expected.Count == 0, queue.IsEmpty);
        }

        while (queue.TryDequeue(out var frame))
        {
            Assert.Equal(expected.Dequeue(), Id(frame));
        }

        Assert.Empty(expected);
        Assert.True(queue.IsEmpty);
    }

    [Fact]
    public async Task Concurrent_producers_lose_nothing_and_each_keeps_its_order()
    {
        const int Producers = 4;
        const int PerProducer = 20_000;
        var queue = new FrameQueue();
        var producers = Enumerable.Range(0, Producers).Select(p => Task.Run(() =>
        {
            for (int i = 0; i < PerProducer; i++)
            {
                queue.Enqueue(Frame(p * PerProducer + i));
            }
        })).ToArray();

        var last = Enumerable.Repeat(-1, Producers).ToArray();
        int received = 0;
        while (received < Producers * PerProducer)
        {
            if (!queue.TryDequeue(out var frame))
            {
                Assert.False(producers.All(t => t.IsCompleted) && queue.IsEmpty, $"frames lost: {received} received");
                Thread.Yield();
                continue;
            }

            int id = Id(frame);
            int producer = id / PerProducer;
            Assert.True(id % PerProducer > last[producer], $"producer {producer}: {id % PerProducer} after {last[producer]}");
            last[producer] = id % PerProducer;
            received++;
        }

        await Task.WhenAll(producers);
        Assert.False(queue.TryDequeue(out _));
    }

    [Fact]
    public void An_idle_queue_holds_no_slots_and_lets_a_burst_go_once_drained()
    {
        var queue = new FrameQueue();
        Assert.Equal(0, queue.Capacity);

        for (int i = 0; i < 100; i++)
        {
            queue.Enqueue(Frame(i));
        }

        Assert.True(queue.Capacity >= 100);
        while (queue.TryDequeue(out _))
        {
        }

        Assert.Equal(0, queue.Capacity);

        // A small queue keeps its few slots between frames (no allocation per frame).
        queue.Enqueue(Frame(1));
        Assert.True(queue.TryDequeue(out _));
        Assert.Equal(4, queue.Capacity);
    }
}
