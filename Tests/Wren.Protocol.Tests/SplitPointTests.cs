using System.Buffers;

namespace Wren.Protocol.Tests;

/// <summary>
/// Frames arrive in arbitrary pieces. For every golden frame and for a stream of frames back to back, every way of
/// cutting the bytes yields NeedMoreData without moving until a frame is whole, then exactly that frame.
/// </summary>
public class SplitPointTests
{
    public static TheoryData<MessageType> Types => GoldenVectors.Types;

    [Theory]
    [MemberData(nameof(Types))]
    public void Frame_split_in_two_at_every_position_needs_more_data_then_reads_whole(MessageType type)
    {
        var bytes = GoldenVectors.For(type).Bytes;
        var expected = TestFrames.ReadOne(bytes);

        for (int split = 0; split <= bytes.Length; split++)
        {
            // First only the bytes before the split have arrived...
            if (split < bytes.Length)
            {
                AssertNeedsMoreData(TestSequences.FromChunks(bytes[..split]), $"prefix of {split} bytes");
            }

            // ...then the rest, in a second segment.
            AssertReadsWhole(TestSequences.SplitAt(bytes, split), expected, $"split at {split}");
        }
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Frame_in_one_byte_segments_needs_more_data_until_the_last_byte(MessageType type)
    {
        var bytes = GoldenVectors.For(type).Bytes;
        var expected = TestFrames.ReadOne(bytes);

        for (int length = 0; length < bytes.Length; length++)
        {
            AssertNeedsMoreData(TestSequences.OneBytePerSegment(bytes.AsSpan(0, length)), $"{length} one-byte segments");
        }

        AssertReadsWhole(TestSequences.OneBytePerSegment(bytes), expected, "one-byte segments");
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Frame_split_in_three_needs_more_data_then_reads_whole(MessageType type)
    {
        var bytes = GoldenVectors.For(type).Bytes;
        var expected = TestFrames.ReadOne(bytes);

        // Every pair of cuts within the header and its neighbourhood, and a stride through the rest.
        foreach (var (first, second) in CutPairs(bytes.Length))
        {
            if (second < bytes.Length)
            {
                AssertNeedsMoreData(TestSequences.SplitAt(bytes[..second], first), $"cuts {first},{second}, third piece missing");
            }

            AssertReadsWhole(TestSequences.SplitAt(bytes, first, second), expected, $"cuts {first},{second}");
        }
    }

    [Fact]
    public void Stream_of_every_golden_frame_cut_anywhere_yields_each_frame_once_in_order()
    {
        var frames = GoldenVectors.All.Select(v => v.Bytes).ToArray();
        var stream = frames.SelectMany(f => f).ToArray();

        for (int split = 0; split <= stream.Length; split++)
        {
            // The first delivery: only the bytes before the split. Every frame wholly inside it is read.
            var received = new List<byte[]>();
            var first = new ReadOnlySequence<byte>(stream, 0, split);
            long consumed = ReadAvailable(first, received, $"split at {split}, first read");

            int wholeFrames = 0;
            for (int end = 0; wholeFrames < frames.Length && end + frames[wholeFrames].Length <= split; wholeFrames++)
            {
                end += frames[wholeFrames].Length;
            }

            Assert.Equal(wholeFrames, received.Count);

            // The second delivery: the unread tail of the first buffer followed by the rest, as two segments.
            var second = TestSequences.FromChunks(stream[(int)consumed..split], stream[split..]);
            consumed += ReadAvailable(second, received, $"split at {split}, second read");

            Assert.Equal(stream.Length, consumed);
            Assert.Equal(frames.Length, received.Count);
            for (int i = 0; i < frames.Length; i++)
            {
                Assert.Equal(frames[i], received[i]);
            }
        }
    }

    [Fact]
    public void Stream_of_every_golden_frame_in_one_byte_segments_yields_each_frame_once_in_order()
    {
        var frames = GoldenVectors.All.Select(v => v.Bytes).ToArray();
        var stream = frames.SelectMany(f => f).ToArray();
        var received = new List<byte[]>();

        long consumed = ReadAvailable(TestSequences.OneBytePerSegment(stream), received, "one-byte segments");

        Assert.Equal(stream.Length, consumed);
        Assert.Equal(frames, received);
    }

    // Reads frames until the input runs out; returns the bytes consumed and appends each frame, re-serialized.
    private static long ReadAvailable(ReadOnlySequence<byte> input, List<byte[]> received, string context)
    {
        var reader = new SequenceReader<byte>(input);
        while (true)
        {
            long before = reader.Consumed;
            var status = FrameReader.TryRead(ref reader, TestFrames.DefaultMax, out var frame, out var error);
            if (status == FrameStatus.NeedMoreData)
            {
                Assert.Equal(ErrorCode.None, error);
                Assert.True(before == reader.Consumed, $"{context}: the reader moved on NeedMoreData");
                return reader.Consumed;
            }

            Assert.True(status == FrameStatus.Complete, $"{context}: {status} {error}");
            var bytes = new byte[FrameHeader.Size + frame.Header.BodyLength];
            FrameWriter.WriteHeader(bytes, frame.Header.MessageType, frame.Header.RequestId, frame.Header.BodyLength);
            frame.Body.CopyTo(bytes.AsSpan(FrameHeader.Size));
            Assert.Equal(bytes.Length, reader.Consumed - before);
            received.Add(bytes);
        }
    }

    private static IEnumerable<(int First, int Second)> CutPairs(int length)
    {
        for (int first = 0; first <= length; first++)
        {
            for (int second = first; second <= length; second++)
            {
                bool nearHeader = first <= FrameHeader.Size + 2 && second <= FrameHeader.Size + 4;
                if (nearHeader || (first + (3 * second)) % 7 == 0)
                {
                    yield return (first, second);
                }
            }
        }
    }

    private static void AssertNeedsMoreData(ReadOnlySequence<byte> input, string context)
    {
        var read = TestFrames.ReadOne(input);
        Assert.True(read.Status == FrameStatus.NeedMoreData, $"{context}: expected NeedMoreData, got {read.Status} {read.Error}");
        Assert.Equal(ErrorCode.None, read.Error);
        Assert.Equal(0, read.Consumed);
    }

    private static void AssertReadsWhole(ReadOnlySequence<byte> input, ReadOutcome expected, string context)
    {
        var read = TestFrames.ReadOne(input);
        Assert.True(read.Status == FrameStatus.Complete, $"{context}: expected Complete, got {read.Status} {read.Error}");
        Assert.Equal(expected.Header, read.Header);
        Assert.Equal(expected.Body, read.Body);
        Assert.Equal(input.Length, read.Consumed);
    }
}
