using System.Buffers;
using System.Buffers.Binary;
using Wren.Protocol;

namespace Wren.Fuzz;

/// <summary>
/// Fuzz target for <see cref="FrameReader.TryRead"/>. Input: one control byte, then a byte stream. Bit 7 of the control
/// byte selects a small frame cap (256) instead of the default (1 MiB); the low 7 bits seed the split points.
/// </summary>
/// <remarks>
/// The stream is read three ways: as one span, as one multi-segment sequence, and arriving piece by piece the way a
/// socket delivers it (the read loop's retry after NeedMoreData). All three must produce the same frames and end in
/// the same status; every frame must match the bytes it came from; NeedMoreData and Invalid must leave the reader
/// where it was; Invalid must carry a framing error code. Any exception is a finding.
/// </remarks>
internal static class FrameTarget
{
    private const int SmallCap = 256;

    /// <summary>Longest stream looked at (the incremental read is quadratic in the number of pieces).</summary>
    private const int MaxInput = 16 * 1024;

    /// <summary>Reads frames the way <see cref="FrameReader.TryRead"/> does (the negative controls pass a faulty one).</summary>
    internal delegate FrameStatus ReadFunction(ref SequenceReader<byte> reader, int maxFrameLength, out Frame frame, out ErrorCode error);

    public static void Run(ReadOnlySpan<byte> input) => Run(input, FrameReader.TryRead);

    public static void Run(ReadOnlySpan<byte> input, ReadFunction tryRead)
    {
        if (input.IsEmpty)
        {
            return;
        }

        byte control = input[0];
        int cap = (control & 0x80) != 0 ? SmallCap : ProtocolLimits.Default.MaxFrameLength;
        byte seed = (byte)(control & 0x7f);
        byte[] data = input[1..Math.Min(input.Length, MaxInput + 1)].ToArray();

        var reference = ReadAll(tryRead, new ReadOnlySequence<byte>(data), data, cap);
        var segmented = ReadAll(tryRead, Segments.Split(data, seed), data, cap);
        Same(reference, segmented, "one span", "segments");
        var incremental = ReadIncrementally(tryRead, data, seed, cap);
        Same(reference, incremental, "one span", "pieces");
    }

    private static Outcome ReadAll(ReadFunction tryRead, ReadOnlySequence<byte> sequence, byte[] data, int cap)
    {
        var reader = new SequenceReader<byte>(sequence);
        var frames = new List<(long Offset, FrameHeader Header)>();
        while (true)
        {
            long before = reader.Consumed;
            var status = tryRead(ref reader, cap, out var frame, out var error);
            if (status != FrameStatus.Complete)
            {
                Check(reader.Consumed == before, $"{status} moved the reader from {before} to {reader.Consumed}");
                CheckStatus(status, error);
                return new Outcome(frames, status, error);
            }

            CheckFrame(frame, error, data, before, reader.Consumed, cap);
            frames.Add((before, frame.Header));
        }
    }

    /// <summary>The read loop's view: the buffer grows piece by piece; after each piece, frames are read until NeedMoreData.</summary>
    private static Outcome ReadIncrementally(ReadFunction tryRead, byte[] data, byte seed, int cap)
    {
        var frames = new List<(long Offset, FrameHeader Header)>();
        var lengths = Segments.Lengths(data.Length, (byte)(seed ^ 0x5a));
        long consumed = 0;
        int available = 0;
        for (int piece = 0; piece <= lengths.Count; piece++)
        {
            if (piece < lengths.Count)
            {
                available += lengths[piece];
            }

            // What the pipe holds: the unconsumed bytes, in the segments they arrived in.
            var window = Segments.Split(data.AsMemory((int)consumed, available - (int)consumed), seed);
            var reader = new SequenceReader<byte>(window);
            while (true)
            {
                long before = reader.Consumed;
                var status = tryRead(ref reader, cap, out var frame, out var error);
                if (status == FrameStatus.Complete)
                {
                    CheckFrame(frame, error, data, consumed + before, consumed + reader.Consumed, cap);
                    frames.Add((consumed + before, frame.Header));
                    continue;
                }

                Check(reader.Consumed == before, $"{status} moved the reader");
                CheckStatus(status, error);
                consumed += reader.Consumed;
                if (status == FrameStatus.Invalid || piece == lengths.Count)
                {
                    return new Outcome(frames, status, error);
                }

                break;
            }
        }

        return new Outcome(frames, FrameStatus.NeedMoreData, ErrorCode.None);
    }

    private static void CheckFrame(in Frame frame, ErrorCode error, byte[] data, long start, long end, int cap)
    {
        var header = frame.Header;
        Check(error == ErrorCode.None, $"Complete with error {error}");
        Check(header.Length >= FrameHeader.MinLength && header.Length <= (uint)cap, $"accepted length {header.Length} outside [6, {cap}]");
        Check(end - start == FrameHeader.LengthFieldSize + header.Length, $"consumed {end - start} bytes for length {header.Length}");
        Check(header.Flags == FrameFlags.None, $"accepted reserved flags {header.Flags}");
        var raw = data.AsSpan((int)start, (int)(end - start));
        Check(BinaryPrimitives.ReadUInt32BigEndian(raw) == header.Length, "length differs from its bytes");
        Check(raw[4] == header.Type && BinaryPrimitives.ReadUInt32BigEndian(raw[6..]) == header.RequestId, "type or request id differs from its bytes");
        Check(frame.Body.Length == header.BodyLength, $"body of {frame.Body.Length} bytes for length {header.Length}");
        Check(frame.Body.ToArray().AsSpan().SequenceEqual(raw[FrameHeader.Size..]), "body differs from its bytes");
    }

    private static void CheckStatus(FrameStatus status, ErrorCode error)
    {
        if (status == FrameStatus.Invalid)
        {
            Check(error is ErrorCode.MalformedFrame or ErrorCode.FrameTooLarge or ErrorCode.ProtocolError, $"Invalid with error {error}");
        }
        else
        {
            Check(status == FrameStatus.NeedMoreData && error == ErrorCode.None, $"status {status} with error {error}");
        }
    }

    private static void Same(Outcome a, Outcome b, string nameA, string nameB)
    {
        Check(a.Frames.Count == b.Frames.Count, $"{nameA}: {a.Frames.Count} frames, {nameB}: {b.Frames.Count}");
        for (int i = 0; i < a.Frames.Count; i++)
        {
            Check(a.Frames[i] == b.Frames[i], $"frame {i}: {nameA} {a.Frames[i]}, {nameB} {b.Frames[i]}");
        }

        Check(a.Status == b.Status && a.Error == b.Error, $"{nameA} ends {a.Status}/{a.Error}, {nameB} ends {b.Status}/{b.Error}");
    }

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvariantViolationException("frame reader: " + what);
        }
    }

    private sealed record Outcome(List<(long Offset, FrameHeader Header)> Frames, FrameStatus Status, ErrorCode Error);
}
