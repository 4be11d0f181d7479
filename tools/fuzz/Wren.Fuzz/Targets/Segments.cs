using System.Buffers;

namespace Wren.Fuzz;

/// <summary>Builds multi-segment sequences, the shape a pipe hands the read loop when a frame spans buffers.</summary>
internal static class Segments
{
    /// <summary>
    /// Splits <paramref name="data"/> into segments whose lengths (1 to 16 bytes) follow a pseudo-random pattern derived from
    /// <paramref name="seed"/>; seed 0 gives one byte per segment. The same seed always gives the same split points.
    /// </summary>
    public static ReadOnlySequence<byte> Split(ReadOnlyMemory<byte> data, byte seed)
    {
        if (data.IsEmpty)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var lengths = Lengths(data.Length, seed);
        Chunk first = new(data[..lengths[0]], 0);
        Chunk last = first;
        int offset = lengths[0];
        for (int i = 1; i < lengths.Count; i++)
        {
            last = last.Append(data.Slice(offset, lengths[i]));
            offset += lengths[i];
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>Segment lengths that add up to <paramref name="total"/>.</summary>
    public static List<int> Lengths(int total, byte seed)
    {
        var lengths = new List<int>();
        uint state = seed == 0 ? 0u : (seed * 2654435761u) | 1u;
        int offset = 0;
        while (offset < total)
        {
            int length;
            if (state == 0)
            {
                length = 1;
            }
            else
            {
                // xorshift32: cheap, deterministic, and varied enough to put boundaries inside headers and bodies.
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                length = 1 + (int)(state % 16);
            }

            length = Math.Min(length, total - offset);
            lengths.Add(length);
            offset += length;
        }

        return lengths;
    }

    private sealed class Chunk : ReadOnlySequenceSegment<byte>
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
}

/// <summary>Thrown by a target when an invariant does not hold: the fuzzer reports it as a crash.</summary>
internal sealed class InvariantViolationException(string message) : Exception(message);
