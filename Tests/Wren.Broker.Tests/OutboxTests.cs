using System.Buffers;
using System.Collections.Concurrent;
using Wren.Client;
using Wren.Protocol;
using Wren.Protocol.Messages;

namespace Wren.Broker.Tests;

/// <summary>
/// The SDK's connection writer (<see cref="Outbox"/>): frames queued while a write is in flight leave together in the
/// next write, in the order they were queued, and a failed write fails every frame it carried and every later one.
/// End to end (sends acknowledged, resends after reconnect) the SDK tests against a real broker cover it; these pin the
/// batching and failure rules on a stream that holds its first write until the test lets it go.
/// </summary>
public class OutboxTests
{
    /// <summary>An outbox whose first frame (request id 1) is being written and held until the stream is released.</summary>
    private static async Task<(HeldStream Stream, Outbox Outbox, Task First)> HoldFirstWriteAsync()
    {
        var stream = new HeldStream();
        var outbox = new Outbox(stream);
        var first = outbox.Enqueue(1, AckFor(1));
        await stream.FirstWriteStarted.WaitAsync(TimeSpan.FromSeconds(10));
        return (stream, outbox, first);
    }

    private static Ack AckFor(ulong conversationId) => new() { Items = [new AckItem { ConversationId = conversationId, Seq = conversationId * 10 }] };

    [Fact]
    public async Task Frames_queued_while_a_write_is_in_flight_leave_together_in_order()
    {
        var (stream, outbox, first) = await HoldFirstWriteAsync();

        // Twenty frames from four threads while the first write is held.
        var queued = new ConcurrentBag<Task>();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (int i = 0; i < 5; i++)
            {
                ulong conversation = (ulong)(100 + (t * 5) + i);
                queued.Add(outbox.Enqueue((uint)conversation, AckFor(conversation)));
            }
        })));
        Assert.All(queued, task => Assert.False(task.IsCompleted));

        stream.Release();
        await first.WaitAsync(TimeSpan.FromSeconds(10));
        await Task.WhenAll(queued).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(2, stream.Writes.Count);
        Assert.Equal(FrameWriter.ToArray(1, AckFor(1)), stream.Writes[0]);

        // The second write holds the twenty frames whole, each thread's five in the order that thread queued them.
        var frames = ReadFrames(stream.Writes[1]);
        Assert.Equal(20, frames.Count);
        Assert.Equal(Enumerable.Range(100, 20).Select(i => (uint)i), frames.Order());
        for (int t = 0; t < 4; t++)
        {
            var ofThread = frames.Where(id => id >= 100 + (t * 5) && id < 105 + (t * 5)).ToList();
            Assert.Equal(ofThread.Order(), ofThread);
        }
    }

    [Fact]
    public async Task A_failed_write_fails_the_frames_it_carried_the_waiting_ones_and_every_later_one()
    {
        var (stream, outbox, inFlight) = await HoldFirstWriteAsync();
        var waiting = outbox.Enqueue(2, AckFor(2));

        var failure = new IOException("connection reset");
        stream.Release(failure);

        Assert.Same(failure, await Assert.ThrowsAsync<IOException>(() => inFlight.WaitAsync(TimeSpan.FromSeconds(10))));
        Assert.Same(failure, await Assert.ThrowsAsync<IOException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(10))));
        var later = outbox.Enqueue(3, AckFor(3));
        Assert.True(later.IsFaulted);
        Assert.Same(failure, await Assert.ThrowsAsync<IOException>(() => later));
        Assert.Single(stream.Writes);
    }

    [Fact]
    public async Task A_stream_closed_under_a_write_fails_it_as_a_lost_connection()
    {
        // SslStream disposed on another thread while a write runs can throw InvalidOperationException; the SDK's send
        // path resends on IOException, so the outbox reports it as one (the original is the inner exception).
        var (stream, outbox, inFlight) = await HoldFirstWriteAsync();

        stream.Release(new InvalidOperationException("This operation is only allowed using a successfully authenticated context."));

        var failure = await Assert.ThrowsAsync<IOException>(() => inFlight.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.IsType<InvalidOperationException>(failure.InnerException);
        Assert.Same(failure, await Assert.ThrowsAsync<IOException>(() => outbox.Enqueue(2, AckFor(2))));
    }

    [Fact]
    public async Task A_message_that_cannot_be_encoded_leaves_no_partial_frame()
    {
        var (stream, outbox, first) = await HoldFirstWriteAsync();

        var unencodable = outbox.Enqueue(2, new Unencodable());
        Assert.True(unencodable.IsFaulted);
        var next = outbox.Enqueue(3, AckFor(3));
        stream.Release();
        await Task.WhenAll(first, next).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([3u], ReadFrames(stream.Writes[1]));
    }

    private static List<uint> ReadFrames(byte[] bytes)
    {
        var ids = new List<uint>();
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        while (!reader.End)
        {
            Assert.Equal(FrameStatus.Complete, FrameReader.TryRead(ref reader, 1 << 20, out var frame, out _));
            Assert.Equal(MessageType.Ack, frame.Header.MessageType);
            ids.Add(frame.Header.RequestId);
        }

        return ids;
    }

    /// <summary>A message type MessagePack has no formatter for: encoding it throws.</summary>
    private sealed class Unencodable : IMessage
    {
        public MessageType Type => MessageType.Ack;

        public FieldViolation Validate(ProtocolLimits limits) => FieldViolation.None;
    }

    /// <summary>Records every write; the first one waits until <see cref="Release"/> (and then fails if given an exception).</summary>
    private sealed class HeldStream : Stream
    {
        private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource<Exception?> _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<byte[]> Writes { get; } = [];

        public Task FirstWriteStarted => _started.Task;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public void Release(Exception? failure = null) => _release.TrySetResult(failure);

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            lock (Writes)
            {
                Writes.Add(buffer.ToArray());
            }

            _started.TrySetResult();
            if (await _release.Task.ConfigureAwait(false) is { } failure)
            {
                throw failure;
            }
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
