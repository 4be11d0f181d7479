using System.Buffers;
using System.Buffers.Binary;
using CsCheck;

namespace Wren.Protocol.Tests;

/// <summary>
/// Arbitrary bytes never make <see cref="FrameReader"/> or <see cref="MessageCodec"/> throw: every outcome is one of the
/// declared statuses with one of the declared error codes.
/// </summary>
public class RobustnessPropertyTests
{
    private const int Iterations = 20_000;

    private static readonly ErrorCode[] s_framingErrors = [ErrorCode.MalformedFrame, ErrorCode.FrameTooLarge, ErrorCode.ProtocolError];

    private static readonly ErrorCode[] s_decodeErrors =
        [ErrorCode.None, ErrorCode.UnsupportedOperation, ErrorCode.MalformedBody, ErrorCode.InvalidArgument, ErrorCode.LimitExceeded];

    private static readonly byte[] s_knownTypes = [.. Enum.GetValues<MessageType>().Select(t => (byte)t)];

    // Byte strings that MessagePack gives meaning to: headers with small and huge counts, scalars of every width.
    private static readonly byte[][] s_tokens =
    [
        [0x90], [0x91], [0x92], [0x93], [0x94], [0x95], [0x96], [0x99], [0x9a], [0x9f], [0x80], [0x81], [0x8f],
        [0xdc, 0x00, 0x02], [0xdc, 0xff, 0xff], [0xdd, 0x00, 0x00, 0x00, 0x01], [0xdd, 0xff, 0xff, 0xff, 0xff],
        [0xde, 0x00, 0x01], [0xdf, 0xff, 0xff, 0xff, 0xff],
        [0x00], [0x01], [0x2a], [0x7f], [0xe0], [0xff], [0xc0], [0xc1], [0xc2], [0xc3],
        [0xcc, 0xff], [0xcd, 0x01, 0x00], [0xce, 0xff, 0xff, 0xff, 0xff], [0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        [0xd0, 0x80], [0xd1, 0x80, 0x00], [0xd2, 0x80, 0x00, 0x00, 0x00], [0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0],
        [0xca, 0, 0, 0, 0], [0xcb, 0, 0, 0, 0, 0, 0, 0, 0],
        [0xa0], [0xa3, 0x63, 0x2d, 0x31], [0xa2, 0xff, 0xfe], [0xa3, 0xed, 0xa0, 0x80], [0xd9, 0x02, 0x68, 0x69], [0xda, 0x00, 0x01, 0x41],
        [0xdb, 0xff, 0xff, 0xff, 0xff], [0xc4, 0x00], [0xc4, 0x02, 0x68, 0x69], [0xc5, 0x00, 0x01, 0x00], [0xc6, 0xff, 0xff, 0xff, 0xff],
        [0xd4, 0x01, 0x00], [0xd6, 0xff, 0, 0, 0, 0], [0xc7, 0x01, 0x05, 0x00], [0xc9, 0xff, 0xff, 0xff, 0xff, 0x01],
    ];

    private static readonly byte[] s_interestingBytes = [0x00, 0x01, 0x06, 0x7f, 0x80, 0x90, 0x9f, 0xc0, 0xc1, 0xc4, 0xd9, 0xdc, 0xdd, 0xdf, 0xfe, 0xff];

    private static readonly byte[][] s_golden = [.. GoldenVectors.All.Select(v => v.Bytes)];

    // A body of random MessagePack tokens: often well-formed, often of the right shape, often not.
    private static readonly Gen<byte[]> s_tokenSoup = Gen.Int[0, s_tokens.Length - 1].Array[0, 24]
        .Select(picks => picks.SelectMany(i => s_tokens[i]).ToArray());

    private static readonly Gen<byte> s_typeByte = Gen.Frequency((9, Gen.Int[0, s_knownTypes.Length - 1].Select(i => s_knownTypes[i])), (1, Gen.Byte));

    [Fact]
    public void Random_bytes_never_make_the_reader_or_codec_throw()
    {
        Gen.Select(Gen.Byte.Array[0, 64], Gen.Int[0, 64])
            .Sample((bytes, cut) => AssertOnlyDeclaredOutcomes(bytes, cut), iter: Iterations);
    }

    [Fact]
    public void Random_frames_with_random_bodies_never_make_the_reader_or_codec_throw()
    {
        var body = Gen.Frequency((3, s_tokenSoup), (1, Gen.Byte.Array[0, 64]));
        Gen.Select(s_typeByte, Gen.Frequency((19, Gen.Const((byte)0)), (1, Gen.Byte)), Gen.UInt, body, Gen.Int[0, 100])
            .Sample((type, flags, requestId, b, cut) => AssertOnlyDeclaredOutcomes(TestFrames.Raw(type, b, requestId, flags), cut), iter: Iterations);
    }

    [Fact]
    public void Random_valid_shapes_with_random_fields_never_make_the_codec_throw()
    {
        // An array header with the right count for a known type, then random tokens: reaches the deserializer and Validate.
        Gen.Select(s_typeByte, Gen.Int[0, 12], s_tokenSoup, Gen.Int[0, 100])
            .Sample((type, count, fields, cut) => AssertOnlyDeclaredOutcomes(TestFrames.Raw(type, [(byte)(0x90 | count), .. fields]), cut), iter: Iterations);
    }

    [Fact]
    public void Mutated_golden_vectors_never_make_the_reader_or_codec_throw()
    {
        var mutation = Gen.Select(Gen.Int[0, 5], Gen.Int[0, int.MaxValue], Gen.Int[0, s_interestingBytes.Length - 1], Gen.Byte);
        Gen.Select(Gen.Int[0, s_golden.Length - 1], mutation.Array[1, 4], Gen.Bool, Gen.Int[0, 200])
            .Sample((index, mutations, fixLength, cut) =>
            {
                var bytes = s_golden[index].ToList();
                foreach (var (kind, position, interesting, random) in mutations)
                {
                    Mutate(bytes, kind, position, s_interestingBytes[interesting], random);
                }

                var frame = bytes.ToArray();
                if (fixLength && frame.Length >= FrameHeader.Size)
                {
                    // Keep the frame well framed so that the mutated body reaches the codec.
                    BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)(frame.Length - FrameHeader.LengthFieldSize));
                    frame[5] = 0;
                }

                AssertOnlyDeclaredOutcomes(frame, cut);
            }, iter: Iterations);
    }

    private static void Mutate(List<byte> bytes, int kind, int position, byte interesting, byte random)
    {
        if (bytes.Count == 0)
        {
            bytes.Add(random);
            return;
        }

        int at = position % bytes.Count;
        switch (kind)
        {
            case 0: bytes[at] ^= (byte)(1 << (random & 7)); break;                  // flip a bit
            case 1: bytes.RemoveRange(at, bytes.Count - at); break;                 // truncate
            case 2: bytes.Insert(at, random); break;                                // insert a byte
            case 3: bytes.RemoveAt(at); break;                                      // delete a byte
            case 4: bytes[at] = interesting; break;                                 // overwrite with a MessagePack code
            default: bytes.InsertRange(at, bytes.GetRange(at, Math.Min(bytes.Count - at, 1 + (random & 15)))); break; // repeat a run
        }
    }

    /// <summary>Reads every frame in <paramref name="bytes"/> (cut in two at <paramref name="cut"/>) and decodes each one.</summary>
    private static void AssertOnlyDeclaredOutcomes(byte[] bytes, int cut)
    {
        var reader = new SequenceReader<byte>(TestSequences.SplitAt(bytes, cut % (bytes.Length + 1)));
        while (true)
        {
            long before = reader.Consumed;
            var status = FrameReader.TryRead(ref reader, TestFrames.DefaultMax, out var frame, out var error);
            switch (status)
            {
                case FrameStatus.NeedMoreData:
                    Assert.Equal(ErrorCode.None, error);
                    Assert.Equal(before, reader.Consumed);
                    return;

                case FrameStatus.Invalid:
                    Assert.Contains(error, s_framingErrors);
                    Assert.True(ErrorCodes.ClosesConnection(error));
                    Assert.Equal(before, reader.Consumed);
                    return;

                case FrameStatus.Complete:
                    Assert.Equal(ErrorCode.None, error);
                    Assert.Equal(FrameFlags.None, frame.Header.Flags);
                    Assert.InRange(frame.Header.Length, FrameHeader.MinLength, (uint)TestFrames.DefaultMax);
                    Assert.Equal(FrameHeader.LengthFieldSize + frame.Header.Length, reader.Consumed - before);
                    Assert.Equal(frame.Header.BodyLength, frame.Body.Length);
                    AssertDecodeOutcome(frame);
                    break;

                default:
                    Assert.Fail($"undeclared status {status}");
                    return;
            }
        }
    }

    private static void AssertDecodeOutcome(in Frame frame)
    {
        var result = MessageCodec.TryDecode(frame, ProtocolLimits.Default, out var message);

        Assert.Contains(result.Error, s_decodeErrors);
        Assert.Equal(result.Error == ErrorCode.UnsupportedOperation, !MessageTypes.IsKnown(frame.Header.Type));
        Assert.Equal(result.Error is ErrorCode.InvalidArgument or ErrorCode.LimitExceeded, result.Field is not null);
        if (!result.IsSuccess)
        {
            Assert.Null(message);
            return;
        }

        // A decoded message is normalized: encoding it and decoding again gives the same message and the same bytes.
        Assert.NotNull(message);
        Assert.Equal(frame.Header.MessageType, message.Type);
        var bytes = FrameWriter.ToArray(frame.Header.RequestId, message);
        var again = TestFrames.Decode(bytes, out var decodedAgain);
        Assert.True(again.IsSuccess, again.ToString());
        MessageAssert.Equal(message, decodedAgain);
        Assert.Equal(bytes, FrameWriter.ToArray(frame.Header.RequestId, decodedAgain!));
    }
}
