using System.Buffers;
using CsCheck;

namespace Wren.Protocol.Tests;

/// <summary>Any valid message of any type survives encode → frame read (cut anywhere) → decode unchanged.</summary>
public class RoundTripPropertyTests
{
    public static TheoryData<MessageType> Types => GoldenVectors.Types;

    [Fact]
    public void Every_message_type_has_a_generator()
    {
        Assert.Equal(Enum.GetValues<MessageType>().Order(), MessageGenerators.ByType.Keys.Order());
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Random_message_round_trips_through_frame_reader_and_codec(MessageType type)
    {
        Gen.Select(MessageGenerators.ByType[type], Gen.UInt, Gen.Int[0, 1000], Gen.Int[0, 1000])
            .Sample((message, requestId, cut1, cut2) => AssertRoundTrips(message, requestId, cut1, cut2), iter: 400);
    }

    [Fact]
    public void Random_messages_of_mixed_types_back_to_back_read_in_order()
    {
        Gen.Select(MessageGenerators.Any.Array[1, 8], Gen.Int[0, 10_000])
            .Sample((messages, cut) =>
            {
                var frames = messages.Select((m, i) => FrameWriter.ToArray((uint)i, m)).ToArray();
                var stream = frames.SelectMany(f => f).ToArray();
                var reader = new SequenceReader<byte>(TestSequences.SplitAt(stream, cut % (stream.Length + 1)));
                for (int i = 0; i < messages.Length; i++)
                {
                    Assert.Equal(FrameStatus.Complete, FrameReader.TryRead(ref reader, TestFrames.DefaultMax, out var frame, out _));
                    Assert.Equal((uint)i, frame.Header.RequestId);
                    var result = MessageCodec.TryDecode(frame, ProtocolLimits.Default, out var decoded);
                    Assert.True(result.IsSuccess, result.ToString());
                    MessageAssert.Equal(messages[i], decoded);
                }

                Assert.True(reader.End);
            }, iter: 300);
    }

    private static void AssertRoundTrips(IMessage message, uint requestId, int cut1, int cut2)
    {
        var bytes = FrameWriter.ToArray(requestId, message);
        int first = Math.Min(cut1, cut2) % (bytes.Length + 1);
        int second = Math.Max(first, Math.Max(cut1, cut2) % (bytes.Length + 1));
        var reader = new SequenceReader<byte>(TestSequences.SplitAt(bytes, first, second));

        var status = FrameReader.TryRead(ref reader, TestFrames.DefaultMax, out var frame, out var error);
        Assert.Equal(FrameStatus.Complete, status);
        Assert.Equal(ErrorCode.None, error);
        Assert.True(reader.End);
        Assert.Equal(message.Type, frame.Header.MessageType);
        Assert.Equal(requestId, frame.Header.RequestId);

        var result = MessageCodec.TryDecode(frame, ProtocolLimits.Default, out var decoded);
        Assert.True(result.IsSuccess, $"{message.Type}: {result}");
        MessageAssert.Equal(message, decoded);
        Assert.Equal(bytes, FrameWriter.ToArray(requestId, decoded!));
    }
}
