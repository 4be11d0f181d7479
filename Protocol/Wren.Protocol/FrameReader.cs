using System.Buffers;
using System.Buffers.Binary;

namespace Wren.Protocol;

/// <summary>
/// Splits a byte stream into frames. Bytes in, frames out: no I/O, no allocation, no exceptions.
/// </summary>
public static class FrameReader
{
    /// <summary>
    /// Reads one frame from <paramref name="reader"/>.
    /// </summary>
    /// <param name="reader">Input; advanced past the frame only when the result is <see cref="FrameStatus.Complete"/>.</param>
    /// <param name="maxFrameLength">Largest accepted value of the length field.</param>
    /// <param name="frame">The frame, when complete.</param>
    /// <param name="error">Why the input is invalid, when <see cref="FrameStatus.Invalid"/>; otherwise <see cref="ErrorCode.None"/>.</param>
    /// <remarks>
    /// The length field is checked as soon as its four bytes are present, before waiting for or looking at the rest,
    /// so an oversize frame is rejected without buffering it. The type byte is not checked here: an unknown type is a
    /// request-level error (<see cref="ErrorCode.UnsupportedOperation"/>), not a framing error.
    /// </remarks>
    public static FrameStatus TryRead(ref SequenceReader<byte> reader, int maxFrameLength, out Frame frame, out ErrorCode error)
    {
        frame = default;
        error = ErrorCode.None;

        Span<byte> scratch = stackalloc byte[FrameHeader.Size];
        scoped ReadOnlySpan<byte> header = reader.UnreadSpan;
        int available = (int)Math.Min(reader.Remaining, FrameHeader.Size);
        if (header.Length < available)
        {
            // The header straddles segments: copy what there is into a small stack buffer.
            reader.TryCopyTo(scratch[..available]);
            header = scratch[..available];
        }
        else
        {
            header = header[..available];
        }

        if (available < FrameHeader.LengthFieldSize)
        {
            return FrameStatus.NeedMoreData;
        }

        uint length = BinaryPrimitives.ReadUInt32BigEndian(header);
        if (length < FrameHeader.MinLength)
        {
            error = ErrorCode.MalformedFrame;
            return FrameStatus.Invalid;
        }

        if (length > (uint)maxFrameLength)
        {
            error = ErrorCode.FrameTooLarge;
            return FrameStatus.Invalid;
        }

        if (available >= 6 && header[5] != 0)
        {
            // Reserved flag bits are rejected as soon as they are visible.
            error = ErrorCode.ProtocolError;
            return FrameStatus.Invalid;
        }

        long total = FrameHeader.LengthFieldSize + (long)length;
        if (reader.Remaining < total)
        {
            return FrameStatus.NeedMoreData;
        }

        var parsed = new FrameHeader(
            length,
            header[4],
            (FrameFlags)header[5],
            BinaryPrimitives.ReadUInt32BigEndian(header[6..]));

        ReadOnlySequence<byte> body = reader.UnreadSequence.Slice(FrameHeader.Size, parsed.BodyLength);
        reader.Advance(total);
        frame = new Frame(parsed, body);
        return FrameStatus.Complete;
    }
}
