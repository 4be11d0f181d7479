using System.Buffers;
using Wren.Protocol;
using Wren.Protocol.Messages;

namespace Wren.Broker.Core;

/// <summary>Encodes server frames into arrays that can be queued to one or many connections.</summary>
public static class Frames
{
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
        var envelope = new DeliverEnvelope(
            entry.ConversationId, entry.Seq, entry.Epoch, entry.SenderUserId, entry.SenderDeviceId,
            entry.ServerTimeMs, entry.ClientMsgId, (EntryKind)entry.Kind);
        var frame = new byte[DeliverEncoder.FrameSize(envelope, entry.Body.Length)];
        var writer = new FixedBufferWriter(frame);
        DeliverEncoder.Write(writer, requestId, envelope, entry.Body.Span);
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

    /// <summary>An <see cref="IBufferWriter{T}"/> over an array of exactly the right size.</summary>
    private sealed class FixedBufferWriter(byte[] buffer) : IBufferWriter<byte>
    {
        private int _written;

        public void Advance(int count) => _written += count;

        public Memory<byte> GetMemory(int sizeHint = 0) => buffer.AsMemory(_written);

        public Span<byte> GetSpan(int sizeHint = 0) => buffer.AsSpan(_written);
    }
}
