using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Unicode;
using Wren.Protocol;
using Wren.Protocol.Messages;

namespace Wren.Client;

/// <summary>
/// Decodes a Deliver body in the layout the server writes (<see cref="DeliverEncoder"/>: a 9-element array of
/// integers in their smallest encoding, a string and a binary) in one pass over the frame's bytes, with no validation
/// pass before it and no copy besides the message's own string and body.
/// </summary>
/// <remarks>
/// Anything outside that layout (another integer encoding, a nil, trailing bytes, invalid UTF-8, a field past its
/// limit) returns false, and the caller decodes the frame with <see cref="MessageCodec"/>: a body this reader accepts
/// decodes to the same message there, and everything else gets the general decoder's answer.
/// </remarks>
internal static class DeliverReader
{
    private const byte ArrayOfNine = 0x99;

    /// <summary>Largest multi-segment body copied to the stack; larger ones go to a pooled array.</summary>
    private const int StackCopyLimit = 1024;

    /// <summary>Decodes <paramref name="body"/> when it is a Deliver in the server's layout within <paramref name="limits"/>.</summary>
    public static bool TryRead(in ReadOnlySequence<byte> body, ProtocolLimits limits, [NotNullWhen(true)] out Deliver? deliver)
    {
        if (body.IsSingleSegment)
        {
            return TryRead(body.FirstSpan, limits, out deliver);
        }

        deliver = null;
        long length = body.Length;
        if (length > limits.MaxMessageBodyBytes + (long)limits.MaxClientMessageIdBytes + 64)
        {
            // Longer than any Deliver within the limits can be.
            return false;
        }

        if (length <= StackCopyLimit)
        {
            Span<byte> copy = stackalloc byte[StackCopyLimit];
            body.CopyTo(copy);
            return TryRead(copy[..(int)length], limits, out deliver);
        }

        byte[] rented = ArrayPool<byte>.Shared.Rent((int)length);
        try
        {
            body.CopyTo(rented);
            return TryRead(rented.AsSpan(0, (int)length), limits, out deliver);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <inheritdoc cref="TryRead(in ReadOnlySequence{byte}, ProtocolLimits, out Deliver?)"/>
    public static bool TryRead(ReadOnlySpan<byte> body, ProtocolLimits limits, [NotNullWhen(true)] out Deliver? deliver)
    {
        deliver = null;
        if (body.IsEmpty || body[0] != ArrayOfNine)
        {
            return false;
        }

        int position = 1;
        if (!TryReadUnsigned(body, ref position, out ulong conversationId)
            || !TryReadUnsigned(body, ref position, out ulong seq)
            || !TryReadUnsigned(body, ref position, out ulong epoch) || epoch > uint.MaxValue
            || !TryReadUnsigned(body, ref position, out ulong senderUserId)
            || !TryReadUnsigned(body, ref position, out ulong senderDeviceId) || senderDeviceId > uint.MaxValue
            || !TryReadSigned(body, ref position, out long serverTimeMs)
            || !TryReadString(body, ref position, out var clientMsgId) || clientMsgId.Length > limits.MaxClientMessageIdBytes
            || !Utf8.IsValid(clientMsgId)
            || !TryReadUnsigned(body, ref position, out ulong kind) || kind > ushort.MaxValue
            || !TryReadBinary(body, ref position, out var content) || content.Length > limits.MaxMessageBodyBytes
            || position != body.Length)
        {
            return false;
        }

        deliver = new Deliver
        {
            ConversationId = conversationId,
            Seq = seq,
            Epoch = (uint)epoch,
            SenderUserId = senderUserId,
            SenderDeviceId = (uint)senderDeviceId,
            ServerTimeMs = serverTimeMs,
            ClientMsgId = Encoding.UTF8.GetString(clientMsgId),
            Kind = (EntryKind)kind,
            Body = content.ToArray(),
        };
        return true;
    }

    /// <summary>Reads a positive fixint, uint8, uint16, uint32 or uint64.</summary>
    private static bool TryReadUnsigned(ReadOnlySpan<byte> body, ref int position, out ulong value)
    {
        value = 0;
        if (position >= body.Length)
        {
            return false;
        }

        byte code = body[position];
        var rest = body[(position + 1)..];
        switch (code)
        {
            case <= 0x7f:
                value = code;
                position += 1;
                return true;
            case 0xcc when rest.Length >= 1:
                value = rest[0];
                position += 2;
                return true;
            case 0xcd when rest.Length >= 2:
                value = BinaryPrimitives.ReadUInt16BigEndian(rest);
                position += 3;
                return true;
            case 0xce when rest.Length >= 4:
                value = BinaryPrimitives.ReadUInt32BigEndian(rest);
                position += 5;
                return true;
            case 0xcf when rest.Length >= 8:
                value = BinaryPrimitives.ReadUInt64BigEndian(rest);
                position += 9;
                return true;
            default:
                return false;
        }
    }

    /// <summary>Reads an integer the writer's long encoding produces: an unsigned form up to long.MaxValue, or a negative fixint, int8, int16, int32 or int64.</summary>
    private static bool TryReadSigned(ReadOnlySpan<byte> body, ref int position, out long value)
    {
        value = 0;
        if (position >= body.Length)
        {
            return false;
        }

        byte code = body[position];
        var rest = body[(position + 1)..];
        switch (code)
        {
            case >= 0xe0:
                value = (sbyte)code;
                position += 1;
                return true;
            case 0xd0 when rest.Length >= 1:
                value = (sbyte)rest[0];
                position += 2;
                return true;
            case 0xd1 when rest.Length >= 2:
                value = BinaryPrimitives.ReadInt16BigEndian(rest);
                position += 3;
                return true;
            case 0xd2 when rest.Length >= 4:
                value = BinaryPrimitives.ReadInt32BigEndian(rest);
                position += 5;
                return true;
            case 0xd3 when rest.Length >= 8:
                value = BinaryPrimitives.ReadInt64BigEndian(rest);
                position += 9;
                return true;
            default:
                if (TryReadUnsigned(body, ref position, out ulong unsigned) && unsigned <= long.MaxValue)
                {
                    value = (long)unsigned;
                    return true;
                }

                return false;
        }
    }

    /// <summary>Reads a fixstr, str8, str16 or str32 and returns its bytes.</summary>
    private static bool TryReadString(ReadOnlySpan<byte> body, ref int position, out ReadOnlySpan<byte> value)
    {
        value = default;
        if (position >= body.Length)
        {
            return false;
        }

        byte code = body[position];
        var rest = body[(position + 1)..];
        int header;
        long length;
        switch (code)
        {
            case >= 0xa0 and <= 0xbf:
                header = 1;
                length = code & 0x1f;
                break;
            case 0xd9 when rest.Length >= 1:
                header = 2;
                length = rest[0];
                break;
            case 0xda when rest.Length >= 2:
                header = 3;
                length = BinaryPrimitives.ReadUInt16BigEndian(rest);
                break;
            case 0xdb when rest.Length >= 4:
                header = 5;
                length = BinaryPrimitives.ReadUInt32BigEndian(rest);
                break;
            default:
                return false;
        }

        return TryTake(body, ref position, header, length, out value);
    }

    /// <summary>Reads a bin8, bin16 or bin32 and returns its bytes.</summary>
    private static bool TryReadBinary(ReadOnlySpan<byte> body, ref int position, out ReadOnlySpan<byte> value)
    {
        value = default;
        if (position >= body.Length)
        {
            return false;
        }

        byte code = body[position];
        var rest = body[(position + 1)..];
        int header;
        long length;
        switch (code)
        {
            case 0xc4 when rest.Length >= 1:
                header = 2;
                length = rest[0];
                break;
            case 0xc5 when rest.Length >= 2:
                header = 3;
                length = BinaryPrimitives.ReadUInt16BigEndian(rest);
                break;
            case 0xc6 when rest.Length >= 4:
                header = 5;
                length = BinaryPrimitives.ReadUInt32BigEndian(rest);
                break;
            default:
                return false;
        }

        return TryTake(body, ref position, header, length, out value);
    }

    /// <summary>Takes <paramref name="length"/> bytes after a <paramref name="header"/>-byte header, when they are all there.</summary>
    private static bool TryTake(ReadOnlySpan<byte> body, ref int position, int header, long length, out ReadOnlySpan<byte> value)
    {
        long end = position + header + length;
        if (end > body.Length)
        {
            value = default;
            return false;
        }

        value = body.Slice(position + header, (int)length);
        position = (int)end;
        return true;
    }
}
