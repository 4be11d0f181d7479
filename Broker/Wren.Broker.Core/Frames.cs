using System.Buffers;
using Wren.Protocol;
using Wren.Protocol.Messages;

namespace Wren.Broker.Core;

/// <summary>Encodes server frames into arrays that can be queued to one or many connections.</summary>
internal static class Frames
{
    public static byte[] Encode<T>(uint requestId, T message)
        where T : IMessage => FrameWriter.ToArray(requestId, message);

    public static byte[] Error(uint requestId, ErrorCode code, string? message = null, uint retryAfterMs = 0) =>
        Encode(requestId, new Error { Code = code, Message = message ?? code.ToString(), RetryAfterMs = retryAfterMs });

    public static byte[] Empty(MessageType type, uint requestId)
    {
        var frame = new byte[FrameHeader.Size];
        FrameWriter.WriteHeader(frame, type, requestId, 0);
        return frame;
    }

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
