using System.Buffers;
using System.Buffers.Binary;

namespace Wren.Protocol.Tests;

/// <summary>What one <see cref="FrameReader.TryRead"/> call returned, with the body copied out of the input.</summary>
internal readonly record struct ReadOutcome(FrameStatus Status, ErrorCode Error, FrameHeader Header, byte[] Body, long Consumed);

/// <summary>Runs <see cref="FrameReader"/> and <see cref="MessageCodec"/> over test input.</summary>
internal static class TestFrames
{
    public static int DefaultMax => ProtocolLimits.Default.MaxFrameLength;

    public static ReadOutcome ReadOne(byte[] bytes, int maxFrameLength = 0) =>
        ReadOne(new ReadOnlySequence<byte>(bytes), maxFrameLength);

    public static ReadOutcome ReadOne(ReadOnlySequence<byte> input, int maxFrameLength = 0)
    {
        var reader = new SequenceReader<byte>(input);
        var status = FrameReader.TryRead(ref reader, maxFrameLength == 0 ? DefaultMax : maxFrameLength, out var frame, out var error);
        return new ReadOutcome(status, error, frame.Header, frame.Body.ToArray(), reader.Consumed);
    }

    /// <summary>Reads one frame that must be complete and decodes it under <paramref name="limits"/>.</summary>
    public static DecodeResult Decode(byte[] bytes, out IMessage? message, ProtocolLimits? limits = null)
    {
        limits ??= ProtocolLimits.Default;
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        var status = FrameReader.TryRead(ref reader, limits.MaxFrameLength, out var frame, out var error);
        Assert.Equal(ErrorCode.None, error);
        Assert.Equal(FrameStatus.Complete, status);
        Assert.Equal(bytes.Length, reader.Consumed);
        return MessageCodec.TryDecode(frame, limits, out message);
    }

    /// <summary>A frame with the given raw type byte and body, built by hand (not by <see cref="FrameWriter"/>).</summary>
    public static byte[] Raw(byte type, ReadOnlySpan<byte> body, uint requestId = 1, byte flags = 0)
    {
        var bytes = new byte[FrameHeader.Size + body.Length];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)(FrameHeader.MinLength + body.Length));
        bytes[4] = type;
        bytes[5] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(6), requestId);
        body.CopyTo(bytes.AsSpan(FrameHeader.Size));
        return bytes;
    }

    public static byte[] Raw(MessageType type, ReadOnlySpan<byte> body, uint requestId = 1) => Raw((byte)type, body, requestId);
}
