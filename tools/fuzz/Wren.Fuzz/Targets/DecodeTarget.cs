using System.Buffers;
using Wren.Protocol;

namespace Wren.Fuzz;

/// <summary>
/// Fuzz target for <see cref="MessageCodec.TryDecode(byte, ReadOnlySequence{byte}, ProtocolLimits, out IMessage?)"/>.
/// Input: the type byte (any of the 256 values), then the body.
/// </summary>
/// <remarks>
/// The body is decoded as one span and as a multi-segment sequence, under the default limits and under tight ones. The
/// two shapes must give the same outcome; an error must be one the codec declares; a success must yield a message of
/// the frame's type that passes its own validation and survives a round trip (encode, decode, encode gives the same
/// bytes). Any exception is a finding.
/// </remarks>
internal static class DecodeTarget
{
    private const int MaxBody = 64 * 1024;

    private static readonly ProtocolLimits s_tight = new()
    {
        MaxFrameLength = 4096,
        MaxMessageBodyBytes = 512,
        MaxBodyDepth = 4,
        MaxBodyElements = 64,
        MaxClientMessageIdBytes = 8,
        MaxNameBytes = 16,
        MaxCredentialBytes = 64,
        MaxListItems = 4,
    };

    /// <summary>Decodes the way <see cref="MessageCodec"/> does (the negative controls pass a faulty one).</summary>
    internal delegate DecodeResult DecodeFunction(byte type, ReadOnlySequence<byte> body, ProtocolLimits limits, out IMessage? message);

    public static void Run(ReadOnlySpan<byte> input) => Run(input, MessageCodec.TryDecode);

    public static void Run(ReadOnlySpan<byte> input, DecodeFunction tryDecode)
    {
        if (input.IsEmpty)
        {
            return;
        }

        byte type = input[0];
        byte[] body = input[1..Math.Min(input.Length, MaxBody + 1)].ToArray();
        byte seed = body.Length > 0 ? body[^1] : (byte)0;
        foreach (var limits in (ReadOnlySpan<ProtocolLimits>)[ProtocolLimits.Default, s_tight])
        {
            var whole = Decode(tryDecode, type, new ReadOnlySequence<byte>(body), limits);
            var split = Decode(tryDecode, type, Segments.Split(body, seed), limits);
            Check(whole.Result == split.Result, $"type 0x{type:x2}: one span gives {whole.Result}, segments give {split.Result}");
            Check(whole.Encoded.AsSpan().SequenceEqual(split.Encoded), $"type 0x{type:x2}: one span and segments decode to different messages");
        }
    }

    private static (DecodeResult Result, byte[] Encoded) Decode(DecodeFunction tryDecode, byte type, ReadOnlySequence<byte> body, ProtocolLimits limits)
    {
        var result = tryDecode(type, body, limits, out var message);
        if (!result.IsSuccess)
        {
            Check(message is null, $"type 0x{type:x2}: {result.Error} with a message");
            Check(
                result.Error is ErrorCode.UnsupportedOperation or ErrorCode.MalformedBody or ErrorCode.InvalidArgument or ErrorCode.LimitExceeded,
                $"type 0x{type:x2}: undeclared error {result.Error}");
            Check(
                (result.Field is not null) == (result.Error is ErrorCode.InvalidArgument or ErrorCode.LimitExceeded),
                $"type 0x{type:x2}: {result.Error} with field '{result.Field}'");
            return (result, []);
        }

        Check(message is not null, $"type 0x{type:x2}: success without a message");
        Check((byte)message!.Type == type, $"type 0x{type:x2}: decoded a {message.Type}");
        Check(message.Validate(limits).IsNone, $"type 0x{type:x2}: decoded message fails its own validation");

        // Round trip: what the server would send back (or store) must decode to the same message.
        byte[] encoded = FrameWriter.ToArray(0, message);
        var again = MessageCodec.TryDecode(type, new ReadOnlySequence<byte>(encoded, FrameHeader.Size, encoded.Length - FrameHeader.Size), limits, out var decodedAgain);
        Check(again.IsSuccess, $"type 0x{type:x2}: re-encoded message does not decode ({again.Error} {again.Field})");
        byte[] encodedAgain = FrameWriter.ToArray(0, decodedAgain!);
        Check(encoded.AsSpan().SequenceEqual(encodedAgain), $"type 0x{type:x2}: round trip changes the bytes");
        return (result, encoded);
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvariantViolationException("decoder: " + what);
        }
    }
}
