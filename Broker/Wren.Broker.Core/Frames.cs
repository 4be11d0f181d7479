using System.Buffers;
using System.Diagnostics;
using Wren.Protocol;
using Wren.Protocol.Messages;

namespace Wren.Broker.Core;

/// <summary>Encodes server frames into arrays (or pooled frames) that can be queued to one or many connections.</summary>
public static class Frames
{
    [ThreadStatic] private static FixedBufferWriter? t_writer;

    /// <summary>The GoAway frame sent at shutdown.</summary>
    public static byte[] GoAway(TimeSpan reconnectAfter) => Encode(0, new GoAway
    {
        Code = ErrorCode.ShuttingDown,
        Message = "server shutting down",
        ReconnectAfterMs = (uint)reconnectAfter.TotalMilliseconds,
    });

    /// <summary>Encodes one frame.</summary>
    public static byte[] Encode<T>(uint requestId, T message)
        where T : IMessage => FrameWriter.ToArray(requestId, message);

    /// <summary>Encodes an Error frame.</summary>
    public static byte[] Error(uint requestId, ErrorCode code, string? message = null, uint retryAfterMs = 0) =>
        Encode(requestId, new Error { Code = code, Message = message ?? code.ToString(), RetryAfterMs = retryAfterMs });

    /// <summary>Encodes a frame with an empty body.</summary>
    public static byte[] Empty(MessageType type, uint requestId)
    {
        var frame = new byte[FrameHeader.Size];
        FrameWriter.WriteHeader(frame, type, requestId, 0);
        return frame;
    }

    /// <summary>Encodes a Deliver frame for a stored entry.</summary>
    public static byte[] Deliver(uint requestId, Storage.LogEntry entry)
    {
        var envelope = Envelope(entry);
        var frame = new byte[DeliverEncoder.FrameSize(envelope, entry.Body.Length)];
        WriteDeliver(frame, frame.Length, requestId, envelope, entry.Body.Span);
        return frame;
    }

    /// <summary>
    /// Encodes a Deliver frame for a stored entry into a pooled <see cref="SharedFrame"/> holding one reference, the
    /// caller's. Allocates nothing once the pools are warm.
    /// </summary>
    public static SharedFrame DeliverShared(uint requestId, Storage.LogEntry entry)
    {
        var envelope = Envelope(entry);
        var frame = SharedFrame.Rent(DeliverEncoder.FrameSize(envelope, entry.Body.Length));
        WriteDeliver(frame.Buffer, frame.Length, requestId, envelope, entry.Body.Span);
        return frame;
    }

    /// <summary>A stored entry as a Deliver message (for history pages).</summary>
    public static Deliver ToDeliver(Storage.LogEntry entry) => new()
    {
        ConversationId = entry.ConversationId,
        Seq = entry.Seq,
        Epoch = entry.Epoch,
        SenderUserId = entry.SenderUserId,
        SenderDeviceId = entry.SenderDeviceId,
        ServerTimeMs = entry.ServerTimeMs,
        ClientMsgId = entry.ClientMsgId,
        Kind = (EntryKind)entry.Kind,
        Body = entry.Body.ToArray(),
    };

    private static DeliverEnvelope Envelope(Storage.LogEntry entry) => new(
        entry.ConversationId, entry.Seq, entry.Epoch, entry.SenderUserId, entry.SenderDeviceId,
        entry.ServerTimeMs, entry.ClientMsgId, (EntryKind)entry.Kind);

    /// <summary>Writes a Deliver frame of exactly <paramref name="length"/> bytes at the start of <paramref name="buffer"/>.</summary>
    private static void WriteDeliver(byte[] buffer, int length, uint requestId, in DeliverEnvelope envelope, ReadOnlySpan<byte> body)
    {
        // One writer per thread, pointed at each buffer in turn: encoding allocates nothing.
        var writer = t_writer ??= new FixedBufferWriter();
        writer.Reset(buffer, length);
        try
        {
            DeliverEncoder.Write(writer, requestId, envelope, body);
            Debug.Assert(writer.Written == length, "DeliverEncoder wrote a different size than FrameSize computed.");
        }
        finally
        {
            // Drop the reference, so a pooled buffer is not kept reachable from this thread.
            writer.Reset([], 0);
        }
    }

    /// <summary>An <see cref="IBufferWriter{T}"/> over the first <c>length</c> bytes of an array; reused per thread.</summary>
    private sealed class FixedBufferWriter : IBufferWriter<byte>
    {
        private byte[] _buffer = [];
        private int _length;

        public int Written { get; private set; }

        public void Reset(byte[] buffer, int length)
        {
            _buffer = buffer;
            _length = length;
            Written = 0;
        }

        public void Advance(int count) => Written += count;

        public Memory<byte> GetMemory(int sizeHint = 0) => _buffer.AsMemory(Written, _length - Written);

        public Span<byte> GetSpan(int sizeHint = 0) => _buffer.AsSpan(Written, _length - Written);
    }
}
