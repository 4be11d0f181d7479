using System.Buffers;
using System.Text.Unicode;

namespace Wren.Protocol;

/// <summary>
/// Walks a MessagePack body without recursion or allocation and checks that it is exactly one well-formed value
/// within the depth and element limits. Run before deserializing untrusted input, so that deep nesting, huge declared
/// counts, truncation and trailing bytes are rejected before any object is built.
/// </summary>
internal static class MessagePackStructure
{
    /// <summary>Deepest nesting the walker supports; <see cref="ProtocolLimits.MaxBodyDepth"/> is validated against it.</summary>
    public const int MaxSupportedDepth = 256;

    /// <summary>
    /// True when <paramref name="body"/> holds exactly one well-formed MessagePack value within the limits, and every
    /// string is valid UTF-8 (a decoder would otherwise replace bad bytes and make different ids compare equal).
    /// </summary>
    public static bool IsValid(ReadOnlySequence<byte> body, int maxDepth, int maxElements)
    {
        if (maxDepth is < 1 or > MaxSupportedDepth)
        {
            return false;
        }

        var reader = new SequenceReader<byte>(body);
        // remaining[d] = values still to read at nesting depth d (depth 0 is the top-level value).
        Span<long> remaining = stackalloc long[maxDepth + 1];
        int depth = 0;
        remaining[0] = 1;
        long elements = 0;

        while (true)
        {
            if (remaining[depth] == 0)
            {
                if (depth == 0)
                {
                    return reader.End;
                }

                depth--;
                continue;
            }

            remaining[depth]--;
            if (!TryReadValueHeader(ref reader, out long children))
            {
                return false;
            }

            if (children > 0)
            {
                elements += children;
                if (depth + 1 > maxDepth || elements > maxElements || children > reader.Remaining)
                {
                    // Each child needs at least one byte, so a count beyond the remaining input is a lie.
                    return false;
                }

                depth++;
                remaining[depth] = children;
            }
        }
    }

    // Consumes one value's header and payload; for arrays and maps, reports how many child values follow.
    private static bool TryReadValueHeader(ref SequenceReader<byte> reader, out long children)
    {
        children = 0;
        if (!reader.TryRead(out byte code))
        {
            return false;
        }

        switch (code)
        {
            case <= 0x7f: return true;                                   // positive fixint
            case <= 0x8f: children = 2L * (code & 0x0f); return true;    // fixmap
            case <= 0x9f: children = code & 0x0f; return true;           // fixarray
            case <= 0xbf: return SkipUtf8(ref reader, code & 0x1f);      // fixstr
            case 0xc0 or 0xc2 or 0xc3: return true;                      // nil, false, true
            case 0xc1: return false;                                     // never used
            case 0xc4: return SkipSized(ref reader, 1, extra: 0);        // bin 8
            case 0xc5: return SkipSized(ref reader, 2, extra: 0);        // bin 16
            case 0xc6: return SkipSized(ref reader, 4, extra: 0);        // bin 32
            case 0xc7: return SkipSized(ref reader, 1, extra: 1);        // ext 8 (+ type byte)
            case 0xc8: return SkipSized(ref reader, 2, extra: 1);        // ext 16
            case 0xc9: return SkipSized(ref reader, 4, extra: 1);        // ext 32
            case 0xca: return Skip(ref reader, 4);                       // float 32
            case 0xcb: return Skip(ref reader, 8);                       // float 64
            case 0xcc or 0xd0: return Skip(ref reader, 1);               // uint 8, int 8
            case 0xcd or 0xd1: return Skip(ref reader, 2);               // uint 16, int 16
            case 0xce or 0xd2: return Skip(ref reader, 4);               // uint 32, int 32
            case 0xcf or 0xd3: return Skip(ref reader, 8);               // uint 64, int 64
            case 0xd4: return Skip(ref reader, 2);                       // fixext 1
            case 0xd5: return Skip(ref reader, 3);                       // fixext 2
            case 0xd6: return Skip(ref reader, 5);                       // fixext 4
            case 0xd7: return Skip(ref reader, 9);                       // fixext 8
            case 0xd8: return Skip(ref reader, 17);                      // fixext 16
            case 0xd9: return SkipString(ref reader, 1);                 // str 8
            case 0xda: return SkipString(ref reader, 2);                 // str 16
            case 0xdb: return SkipString(ref reader, 4);                 // str 32
            case 0xdc: return TryReadCount(ref reader, 2, 1, out children); // array 16
            case 0xdd: return TryReadCount(ref reader, 4, 1, out children); // array 32
            case 0xde: return TryReadCount(ref reader, 2, 2, out children); // map 16
            case 0xdf: return TryReadCount(ref reader, 4, 2, out children); // map 32
            default: return true;                                        // negative fixint
        }
    }

    private static bool Skip(ref SequenceReader<byte> reader, long count)
    {
        if (reader.Remaining < count)
        {
            return false;
        }

        reader.Advance(count);
        return true;
    }

    private static bool SkipString(ref SequenceReader<byte> reader, int lengthBytes) =>
        TryReadUnsigned(ref reader, lengthBytes, out long length) && SkipUtf8(ref reader, length);

    private static bool SkipUtf8(ref SequenceReader<byte> reader, long length)
    {
        if (reader.Remaining < length)
        {
            return false;
        }

        var bytes = reader.UnreadSequence.Slice(0, length);
        bool valid;
        if (bytes.IsSingleSegment)
        {
            valid = Utf8.IsValid(bytes.FirstSpan);
        }
        else
        {
            // Rare: a string split across segments is copied once to check it.
            byte[] rented = ArrayPool<byte>.Shared.Rent((int)length);
            bytes.CopyTo(rented);
            valid = Utf8.IsValid(rented.AsSpan(0, (int)length));
            ArrayPool<byte>.Shared.Return(rented);
        }

        reader.Advance(length);
        return valid;
    }

    private static bool SkipSized(ref SequenceReader<byte> reader, int lengthBytes, int extra)
    {
        if (!TryReadUnsigned(ref reader, lengthBytes, out long length))
        {
            return false;
        }

        return Skip(ref reader, length + extra);
    }

    private static bool TryReadCount(ref SequenceReader<byte> reader, int lengthBytes, int multiplier, out long children)
    {
        bool ok = TryReadUnsigned(ref reader, lengthBytes, out long count);
        children = count * multiplier;
        return ok;
    }

    private static bool TryReadUnsigned(ref SequenceReader<byte> reader, int bytes, out long value)
    {
        value = 0;
        for (int i = 0; i < bytes; i++)
        {
            if (!reader.TryRead(out byte b))
            {
                return false;
            }

            value = (value << 8) | b;
        }

        return true;
    }
}
