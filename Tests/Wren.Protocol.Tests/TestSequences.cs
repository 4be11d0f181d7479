using System.Buffers;

namespace Wren.Protocol.Tests;

/// <summary>A segment of a hand-built multi-segment <see cref="ReadOnlySequence{T}"/>.</summary>
internal sealed class Chunk : ReadOnlySequenceSegment<byte>
{
    public Chunk(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    public Chunk Append(ReadOnlyMemory<byte> memory)
    {
        var next = new Chunk(memory, RunningIndex + Memory.Length);
        Next = next;
        return next;
    }
}

/// <summary>Builds byte sequences the way a socket delivers them: in arbitrary pieces.</summary>
internal static class TestSequences
{
    /// <summary>A sequence with one segment per chunk (empty chunks included, each copied to its own array).</summary>
    public static ReadOnlySequence<byte> FromChunks(params ReadOnlySpan<byte[]> chunks)
    {
        if (chunks.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Chunk(chunks[0].ToArray(), 0);
        var last = first;
        for (int i = 1; i < chunks.Length; i++)
        {
            last = last.Append(chunks[i].ToArray());
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>Splits <paramref name="bytes"/> at the given ascending positions into one segment per piece.</summary>
    public static ReadOnlySequence<byte> SplitAt(byte[] bytes, params ReadOnlySpan<int> positions)
    {
        var chunks = new byte[positions.Length + 1][];
        int start = 0;
        for (int i = 0; i < positions.Length; i++)
        {
            chunks[i] = bytes[start..positions[i]];
            start = positions[i];
        }

        chunks[^1] = bytes[start..];
        return FromChunks(chunks);
    }

    /// <summary>One segment per byte.</summary>
    public static ReadOnlySequence<byte> OneBytePerSegment(ReadOnlySpan<byte> bytes)
    {
        var chunks = new byte[bytes.Length][];
        for (int i = 0; i < bytes.Length; i++)
        {
            chunks[i] = [bytes[i]];
        }

        return FromChunks(chunks);
    }
}

/// <summary>Hex helpers for byte vectors written in test source.</summary>
internal static class Hex
{
    /// <summary>Parses lowercase or uppercase hex, ignoring spaces.</summary>
    public static byte[] Parse(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    /// <summary>Lowercase hex without separators.</summary>
    public static string Of(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);
}
