using System.Buffers;
using System.Buffers.Binary;
using MessagePack;

namespace Wren.Protocol;

/// <summary>Writes frames to an <see cref="IBufferWriter{T}"/>. No I/O: the caller flushes.</summary>
public static class FrameWriter
{
    // Scratch for MessagePack bodies whose size is not known before encoding; one per thread, reused.
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_scratch;

    // A scratch buffer that grew past this is dropped after use instead of being kept for the thread's lifetime.
    // It is above the largest default frame, so frames within the default limits never allocate a new scratch.
    private const int ScratchRetainLimit = 2 * 1024 * 1024;

    /// <summary>Writes the 10-byte header of a frame whose body of <paramref name="bodyLength"/> bytes the caller writes next.</summary>
    public static void WriteHeader(IBufferWriter<byte> output, MessageType type, uint requestId, int bodyLength)
    {
        Span<byte> span = output.GetSpan(FrameHeader.Size);
        WriteHeader(span, type, requestId, bodyLength);
        output.Advance(FrameHeader.Size);
    }

    /// <summary>Writes a frame header into <paramref name="destination"/> (at least 10 bytes).</summary>
    public static void WriteHeader(Span<byte> destination, MessageType type, uint requestId, int bodyLength)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, FrameHeader.MinLength + (uint)bodyLength);
        destination[4] = (byte)type;
        destination[5] = (byte)FrameFlags.None;
        BinaryPrimitives.WriteUInt32BigEndian(destination[6..], requestId);
    }

    /// <summary>Writes a frame whose body is given as bytes (already-encoded MessagePack, or empty).</summary>
    public static void WriteRaw(IBufferWriter<byte> output, MessageType type, uint requestId, ReadOnlySpan<byte> body)
    {
        WriteHeader(output, type, requestId, body.Length);
        if (!body.IsEmpty)
        {
            body.CopyTo(output.GetSpan(body.Length));
            output.Advance(body.Length);
        }
    }

    /// <summary>Writes a frame carrying <paramref name="message"/>.</summary>
    /// <remarks>Ping, Pong and Ok get an empty body; every other type is MessagePack-encoded.</remarks>
    public static void Write<T>(IBufferWriter<byte> output, uint requestId, T message)
        where T : IMessage
    {
        if (MessageTypes.HasEmptyBody(message.Type))
        {
            WriteHeader(output, message.Type, requestId, 0);
            return;
        }

        var scratch = t_scratch ??= new ArrayBufferWriter<byte>(256);
        scratch.ResetWrittenCount();
        if (typeof(T) == message.GetType())
        {
            MessagePackSerializer.Serialize(scratch, message, MessageCodec.WriteOptions);
        }
        else
        {
            MessagePackSerializer.Serialize(message.GetType(), scratch, message, MessageCodec.WriteOptions);
        }

        WriteRaw(output, message.Type, requestId, scratch.WrittenSpan);
        if (scratch.Capacity > ScratchRetainLimit)
        {
            t_scratch = null;
        }
    }

    /// <summary>Encodes <paramref name="message"/> into a new array holding one whole frame.</summary>
    public static byte[] ToArray<T>(uint requestId, T message)
        where T : IMessage
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        Write(buffer, requestId, message);
        return buffer.WrittenSpan.ToArray();
    }
}
