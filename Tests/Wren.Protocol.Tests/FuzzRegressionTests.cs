using System.Buffers;
using Wren.Fuzz;

namespace Wren.Protocol.Tests;

/// <summary>
/// Replays the fuzzing corpus (tools/fuzz/corpus/frame and decode: the golden-vector seeds and whatever a campaign kept)
/// and every crash input a campaign found (tools/fuzz/regressions/frame and decode, plus the byte arrays below) through
/// the same <c>Run</c> entry points the fuzzer drives (tools/fuzz/Wren.Fuzz/Targets, compiled into this project).
/// The negative controls show that the targets' checks catch a faulty frame reader or decoder.
/// </summary>
public class FuzzRegressionTests
{
    /// <summary>
    /// Crash inputs found by fuzzing, as byte arrays: (target, name, input). The campaigns recorded in
    /// docs/reliability.md found none so far; the inputs below are the targets' own edge cases (one per branch of the
    /// input format) so that the replay covers them even when the corpus directories change.
    /// </summary>
    public static TheoryData<string, string, byte[]> Kept => new()
    {
        { "frame", "empty stream after the control byte", [0x00] },
        { "frame", "length field below the minimum, small cap", [0x80, 0x00, 0x00, 0x00, 0x05] },
        { "frame", "length just above the small cap", [0x81, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00] },
        { "frame", "length int.MaxValue", [0x07, 0x7f, 0xff, 0xff, 0xff, 0x01] },
        { "frame", "reserved flag set before the body arrives", [0x03, 0x00, 0x00, 0x00, 0x10, 0x01, 0x80] },
        { "frame", "two empty-body frames back to back, one byte per segment", [0x00, 0, 0, 0, 6, 0x0f, 0, 0, 0, 0, 1, 0, 0, 0, 6, 0x10, 0, 0, 0, 0, 2] },
        { "decode", "unknown type", [0xee, 0x90] },
        { "decode", "Ping with a body", [(byte)MessageType.Ping, 0xc0] },
        { "decode", "Send as a nil", [(byte)MessageType.Send, 0xc0] },
        { "decode", "Hello as a deep nest", [(byte)MessageType.Hello, .. Enumerable.Repeat((byte)0x91, 40), 0x01] },
        { "decode", "SyncAll claiming 2^32-1 items", [(byte)MessageType.SyncAll, 0x91, 0xdd, 0xff, 0xff, 0xff, 0xff] },
        { "decode", "Send with a string cut mid-character", [(byte)MessageType.Send, 0x94, 0x2a, 0xa2, 0xe2, 0x82, 0x00, 0xc4, 0x00] },
    };

    [Theory]
    [MemberData(nameof(Kept))]
    public void Kept_input_runs_clean(string target, string name, byte[] input)
    {
        Assert.False(string.IsNullOrEmpty(name));
        Target(target)(input);
    }

    [Theory]
    [InlineData("frame")]
    [InlineData("decode")]
    public void Every_corpus_and_regression_file_runs_clean(string target)
    {
        var files = Files(target);
        Assert.True(files.Count >= 20, $"tools/fuzz/corpus/{target} holds only {files.Count} files");
        var run = Target(target);
        var failures = new List<string>();
        foreach (var file in files)
        {
            try
            {
                run(File.ReadAllBytes(file));
            }
            catch (Exception ex)
            {
                failures.Add($"{Path.GetRelativePath(GoldenVectorDocs.RepositoryRoot(), file)}: {ex.GetType().Name}: {ex.Message}");
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Fact]
    public void Every_golden_vector_runs_clean_through_both_targets_at_every_split_seed()
    {
        foreach (var vector in GoldenVectors.All)
        {
            var bytes = vector.Bytes;
            for (int seed = 0; seed < 128; seed += 9)
            {
                FrameTarget.Run([(byte)seed, .. bytes]);
                FrameTarget.Run([(byte)(seed | 0x80), .. bytes]);
            }

            DecodeTarget.Run([bytes[4], .. bytes.AsSpan(FrameHeader.Size)]);
        }
    }

    [Fact]
    public void The_frame_target_catches_a_reader_that_loses_frames_split_across_segments()
    {
        // Negative control: a reader that answers NeedMoreData whenever the header straddles two segments.
        FrameTarget.ReadFunction faulty = (ref SequenceReader<byte> reader, int max, out Frame frame, out ErrorCode error) =>
        {
            if (reader.UnreadSpan.Length < FrameHeader.Size && reader.Remaining >= FrameHeader.Size)
            {
                frame = default;
                error = ErrorCode.None;
                return FrameStatus.NeedMoreData;
            }

            return FrameReader.TryRead(ref reader, max, out frame, out error);
        };
        var hello = GoldenVectors.All[0].Bytes;

        FrameTarget.Run([0x00, .. hello]);
        var failure = Assert.Throws<InvariantViolationException>(() => FrameTarget.Run([0x00, .. hello], faulty));
        Assert.Contains("frames", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_frame_target_catches_a_reader_that_accepts_reserved_flags()
    {
        // Negative control: a reader that lets a frame with a reserved flag bit through (the bytes say flags 0x80).
        FrameTarget.ReadFunction faulty = (ref SequenceReader<byte> reader, int max, out Frame frame, out ErrorCode error) =>
        {
            var status = FrameReader.TryRead(ref reader, max, out frame, out error);
            if (status == FrameStatus.Invalid && error == ErrorCode.ProtocolError && reader.Remaining >= FrameHeader.Size + 1)
            {
                Span<byte> header = stackalloc byte[FrameHeader.Size];
                reader.TryCopyTo(header);
                var parsed = new FrameHeader(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(header), header[4], (FrameFlags)header[5], 0);
                frame = new Frame(parsed, reader.UnreadSequence.Slice(FrameHeader.Size, parsed.BodyLength));
                reader.Advance(FrameHeader.LengthFieldSize + parsed.Length);
                error = ErrorCode.None;
                return FrameStatus.Complete;
            }

            return status;
        };
        byte[] flagged = [0x00, 0, 0, 0, 7, (byte)MessageType.Ping, 0x80, 0, 0, 0, 0, 0xc0];

        FrameTarget.Run(flagged);
        var failure = Assert.Throws<InvariantViolationException>(() => FrameTarget.Run(flagged, faulty));
        Assert.Contains("reserved flags", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_decode_target_catches_a_decoder_that_fails_on_segmented_bodies()
    {
        // Negative control: a decoder that rejects any body spread over more than one segment.
        DecodeTarget.DecodeFunction faulty = (byte type, ReadOnlySequence<byte> body, ProtocolLimits limits, out IMessage? message) =>
        {
            if (!body.IsSingleSegment)
            {
                message = null;
                return new DecodeResult(ErrorCode.MalformedBody);
            }

            return MessageCodec.TryDecode(type, body, limits, out message);
        };
        var send = GoldenVectors.All.Single(v => v.Type == MessageType.Send).Bytes;
        byte[] input = [send[4], .. send.AsSpan(FrameHeader.Size)];

        DecodeTarget.Run(input);
        var failure = Assert.Throws<InvariantViolationException>(() => DecodeTarget.Run(input, faulty));
        Assert.Contains("segments give", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_decode_target_catches_a_decoder_that_returns_a_message_of_another_type()
    {
        // Negative control: a decoder that answers every Ack with an empty Ping.
        DecodeTarget.DecodeFunction faulty = (byte type, ReadOnlySequence<byte> body, ProtocolLimits limits, out IMessage? message) =>
        {
            var result = MessageCodec.TryDecode(type, body, limits, out message);
            if (result.IsSuccess && message!.Type == MessageType.Ack)
            {
                MessageCodec.TryDecode((byte)MessageType.Ping, ReadOnlySequence<byte>.Empty, limits, out message);
            }

            return result;
        };
        var ack = GoldenVectors.All.Single(v => v.Type == MessageType.Ack).Bytes;
        byte[] input = [ack[4], .. ack.AsSpan(FrameHeader.Size)];

        DecodeTarget.Run(input);
        var failure = Assert.Throws<InvariantViolationException>(() => DecodeTarget.Run(input, faulty));
        Assert.Contains("decoded a Ping", failure.Message, StringComparison.Ordinal);
    }

    private static Action<byte[]> Target(string target) => target switch
    {
        "frame" => input => FrameTarget.Run(input),
        "decode" => input => DecodeTarget.Run(input),
        _ => throw new ArgumentOutOfRangeException(nameof(target), target, "frame or decode"),
    };

    /// <summary>Every file of tools/fuzz/corpus/TARGET and tools/fuzz/regressions/TARGET (the latter may not exist).</summary>
    private static List<string> Files(string target)
    {
        string fuzz = Path.Combine(GoldenVectorDocs.RepositoryRoot(), "tools", "fuzz");
        return [.. new[] { "corpus", "regressions" }
            .Select(kind => Path.Combine(fuzz, kind, target))
            .Where(Directory.Exists)
            .SelectMany(Directory.GetFiles)
            .Order(StringComparer.Ordinal)];
    }
}
