using System.Buffers;
using System.Buffers.Binary;
using Wren.Protocol.Messages;

namespace Wren.Protocol.Tests;

/// <summary>Every framing limit, crossed by a crafted frame, gives the result docs/protocol.md section 3 documents.</summary>
public class FrameLimitTests
{
    private const int SmallCap = 64;

    [Theory]
    [InlineData(0u)]
    [InlineData(1u)]
    [InlineData(5u)]
    public void Length_below_six_is_a_malformed_frame_as_soon_as_the_length_field_is_present(uint length)
    {
        var lengthField = LengthField(length);

        var read = TestFrames.ReadOne(lengthField);

        Assert.Equal(FrameStatus.Invalid, read.Status);
        Assert.Equal(ErrorCode.MalformedFrame, read.Error);
        Assert.Equal(0, read.Consumed);
    }

    [Fact]
    public void Length_six_is_a_ping_with_an_empty_body()
    {
        var bytes = Hex.Parse("00000006 05 00 00000009");

        var read = TestFrames.ReadOne(bytes);
        var result = TestFrames.Decode(bytes, out var message);

        Assert.Equal(FrameStatus.Complete, read.Status);
        Assert.Equal(0, read.Header.BodyLength);
        Assert.Empty(read.Body);
        Assert.Equal(9u, read.Header.RequestId);
        Assert.True(result.IsSuccess);
        Assert.Same(EmptyMessage.Ping, message);
    }

    [Fact]
    public void Length_six_on_a_type_with_a_body_frames_but_does_not_decode()
    {
        var result = TestFrames.Decode(TestFrames.Raw(MessageType.Send, []), out var message);

        Assert.Equal(ErrorCode.MalformedBody, result.Error);
        Assert.Null(message);
    }

    [Fact]
    public void Length_at_the_cap_needs_more_data_until_the_last_byte_then_completes()
    {
        int cap = ProtocolLimits.Default.MaxFrameLength;
        var bytes = TestFrames.Raw(MessageType.Send, new byte[cap - FrameHeader.MinLength]);
        Assert.Equal(FrameHeader.LengthFieldSize + cap, bytes.Length);

        foreach (int available in new[] { 4, 5, 6, 10, 11, 4096, bytes.Length - 1 })
        {
            var partial = TestFrames.ReadOne(bytes[..available], cap);
            Assert.Equal(FrameStatus.NeedMoreData, partial.Status);
            Assert.Equal(0, partial.Consumed);
        }

        var read = TestFrames.ReadOne(bytes, cap);

        Assert.Equal(FrameStatus.Complete, read.Status);
        Assert.Equal((uint)cap, read.Header.Length);
        Assert.Equal(cap - FrameHeader.MinLength, read.Header.BodyLength);
        Assert.Equal(bytes.Length, read.Consumed);
    }

    [Fact]
    public void Length_at_a_small_custom_cap_completes_and_one_more_is_too_large()
    {
        var atCap = TestFrames.Raw(MessageType.Send, new byte[SmallCap - FrameHeader.MinLength]);
        var overCap = TestFrames.Raw(MessageType.Send, new byte[SmallCap - FrameHeader.MinLength + 1]);

        Assert.Equal(FrameStatus.Complete, TestFrames.ReadOne(atCap, SmallCap).Status);
        var read = TestFrames.ReadOne(overCap, SmallCap);
        Assert.Equal(FrameStatus.Invalid, read.Status);
        Assert.Equal(ErrorCode.FrameTooLarge, read.Error);
    }

    [Theory]
    [InlineData(1_048_577u)]    // cap + 1
    [InlineData(0x7FFF_FFFFu)]  // int.MaxValue
    [InlineData(0x8000_0000u)]  // negative as an int32
    [InlineData(0xFFFF_FFFFu)]  // -1 as an int32
    public void Length_over_cap_is_rejected_before_the_body_arrives(uint length)
    {
        // Only the four length bytes have arrived.
        var read = TestFrames.ReadOne(LengthField(length));

        Assert.Equal(FrameStatus.Invalid, read.Status);
        Assert.Equal(ErrorCode.FrameTooLarge, read.Error);
        Assert.Equal(0, read.Consumed);
    }

    [Theory]
    [InlineData(0x7FFF_FFFFu)]
    [InlineData(0x8000_0000u)]
    [InlineData(0xFFFF_FFFFu)]
    public void Length_of_2_to_the_31_or_more_is_rejected_even_when_the_cap_is_int_max(uint length)
    {
        var read = TestFrames.ReadOne(LengthField(length), int.MaxValue);

        if (length <= int.MaxValue)
        {
            Assert.Equal(FrameStatus.NeedMoreData, read.Status);
        }
        else
        {
            Assert.Equal(FrameStatus.Invalid, read.Status);
            Assert.Equal(ErrorCode.FrameTooLarge, read.Error);
        }
    }

    [Fact]
    public void Length_field_split_over_segments_is_checked_the_same_way()
    {
        var tooLarge = TestSequences.OneBytePerSegment(LengthField(0x8000_0000u));
        var tooSmall = TestSequences.FromChunks([0, 0], [0], [5]);

        Assert.Equal(ErrorCode.FrameTooLarge, TestFrames.ReadOne(tooLarge).Error);
        Assert.Equal(ErrorCode.MalformedFrame, TestFrames.ReadOne(tooSmall).Error);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(9)]
    public void Truncated_header_needs_more_data(int available)
    {
        var bytes = GoldenVectors.For(MessageType.Ping).Bytes;

        var read = TestFrames.ReadOne(bytes[..available]);

        Assert.Equal(FrameStatus.NeedMoreData, read.Status);
        Assert.Equal(ErrorCode.None, read.Error);
        Assert.Equal(0, read.Consumed);
    }

    [Theory]
    [InlineData(0x01)]
    [InlineData(0x80)]
    [InlineData(0xFF)]
    public void Nonzero_flags_are_a_protocol_error(byte flags)
    {
        var bytes = TestFrames.Raw((byte)MessageType.Ping, [], flags: flags);

        var whole = TestFrames.ReadOne(bytes);
        var flagsJustArrived = TestFrames.ReadOne(bytes[..6]);

        Assert.Equal(FrameStatus.Invalid, whole.Status);
        Assert.Equal(ErrorCode.ProtocolError, whole.Error);
        Assert.Equal(FrameStatus.Invalid, flagsJustArrived.Status);
        Assert.Equal(ErrorCode.ProtocolError, flagsJustArrived.Error);
        Assert.Equal(0, whole.Consumed);
    }

    [Theory]
    [InlineData(0x00)]
    [InlineData(0x0A)]
    [InlineData(0x14)]
    [InlineData(0x5F)]
    [InlineData(0xF0)]
    [InlineData(0xFF)]
    public void Unknown_type_is_framed_normally_then_unsupported(byte type)
    {
        var bytes = TestFrames.Raw(type, [0x91, 0x01]);

        var read = TestFrames.ReadOne(bytes);
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        FrameReader.TryRead(ref reader, TestFrames.DefaultMax, out var frame, out _);
        var result = MessageCodec.TryDecode(frame, ProtocolLimits.Default, out var message);

        Assert.Equal(FrameStatus.Complete, read.Status);
        Assert.Equal(type, read.Header.Type);
        Assert.Equal(bytes.Length, read.Consumed);
        Assert.Equal(ErrorCode.UnsupportedOperation, result.Error);
        Assert.False(ErrorCodes.ClosesConnection(result.Error));
        Assert.Null(message);
    }

    [Fact]
    public void Unknown_type_between_known_frames_does_not_disturb_them()
    {
        var ping = GoldenVectors.For(MessageType.Ping).Bytes;
        var unknown = TestFrames.Raw(0x5F, [1, 2, 3, 4, 5]);
        var stream = TestSequences.FromChunks(ping, unknown, ping);

        var reader = new SequenceReader<byte>(stream);
        var types = new List<byte>();
        while (FrameReader.TryRead(ref reader, TestFrames.DefaultMax, out var frame, out _) == FrameStatus.Complete)
        {
            types.Add(frame.Header.Type);
        }

        Assert.Equal([0x05, 0x5F, 0x05], types);
        Assert.True(reader.End);
    }

    [Fact]
    public void Header_fields_are_big_endian()
    {
        var bytes = TestFrames.Raw(0x10, [0xc0], requestId: 0x01020304);

        var read = TestFrames.ReadOne(bytes);

        Assert.Equal("00000007", Hex.Of(bytes.AsSpan(0, 4)));
        Assert.Equal(7u, read.Header.Length);
        Assert.Equal(0x01020304u, read.Header.RequestId);
        Assert.Equal("01020304", Hex.Of(bytes.AsSpan(6, 4)));
    }

    [Fact]
    public void Reader_reads_only_the_first_frame_and_leaves_the_rest()
    {
        var first = GoldenVectors.For(MessageType.Send).Bytes;
        var second = GoldenVectors.For(MessageType.Ping).Bytes;
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>([.. first, .. second[..3]]));

        Assert.Equal(FrameStatus.Complete, FrameReader.TryRead(ref reader, TestFrames.DefaultMax, out _, out _));
        Assert.Equal(first.Length, reader.Consumed);
        Assert.Equal(FrameStatus.NeedMoreData, FrameReader.TryRead(ref reader, TestFrames.DefaultMax, out _, out _));
        Assert.Equal(first.Length, reader.Consumed);
    }

    private static byte[] LengthField(uint length)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, length);
        return bytes;
    }
}
