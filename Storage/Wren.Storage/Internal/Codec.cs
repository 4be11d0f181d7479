using System.Buffers.Binary;
using System.Text;

namespace Wren.Storage.Internal;

/// <summary>Binary value layouts (all integers big-endian; see docs/storage.md).</summary>
internal static class Codec
{
    public const byte FormatPlain = 0;
    public const byte FormatSealed = 1;

    /// <summary>Fixed part of a message value before the client message id.</summary>
    public const int MessageHeaderSize = 29;

    public const int DedupValueSize = 36;
    public const int HeadValueSize = 12;
    public const int CursorValueSize = 12;
    public const int MemberValueSize = 9;
    public const int TokenValueSize = 29;

    /// <summary>Size of the message value for the given client message id and body.</summary>
    public static int MessageSize(int clientMsgIdBytes, int bodyLength, bool sealedBody) =>
        MessageHeaderSize + clientMsgIdBytes + bodyLength + (sealedBody ? MessageCipher.Overhead : 0);

    /// <summary>Writes a message value; the body is sealed when <paramref name="cipher"/> is set. Returns the length.</summary>
    public static int WriteMessage(Span<byte> destination, LogEntry entry, MessageCipher? cipher)
    {
        destination[0] = cipher is null ? FormatPlain : FormatSealed;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], entry.Epoch);
        BinaryPrimitives.WriteUInt64BigEndian(destination[5..], entry.SenderUserId);
        BinaryPrimitives.WriteUInt32BigEndian(destination[13..], entry.SenderDeviceId);
        BinaryPrimitives.WriteInt64BigEndian(destination[17..], entry.ServerTimeMs);
        BinaryPrimitives.WriteUInt16BigEndian(destination[25..], entry.Kind);
        var idLength = Encoding.UTF8.GetBytes(entry.ClientMsgId, destination[MessageHeaderSize..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination[27..], (ushort)idLength);
        var headerLength = MessageHeaderSize + idLength;
        var body = entry.Body.Span;
        if (cipher is null)
        {
            body.CopyTo(destination[headerLength..]);
            return headerLength + body.Length;
        }

        Span<byte> associatedData = stackalloc byte[AssociatedDataSize(headerLength)];
        destination[headerLength] = cipher.ActiveKeyId;
        WriteAssociatedData(associatedData, entry.ConversationId, entry.Seq, destination[..(headerLength + 1)]);
        cipher.Seal(body, associatedData, destination[headerLength..]);
        return headerLength + MessageCipher.Overhead + body.Length;
    }

    /// <summary>Parses a message value; the body is copied (and opened) into memory from <paramref name="bodies"/>.</summary>
    public static LogEntry ReadMessage(ulong conversationId, ulong seq, ReadOnlySpan<byte> value, MessageCipher? cipher, ref BodyArena bodies)
    {
        if (value.Length < MessageHeaderSize)
        {
            throw Truncated(conversationId, seq);
        }

        var format = value[0];
        var idLength = BinaryPrimitives.ReadUInt16BigEndian(value[27..]);
        var headerLength = MessageHeaderSize + idLength;
        if (value.Length < headerLength || format > FormatSealed)
        {
            throw Truncated(conversationId, seq);
        }

        var clientMsgId = Encoding.UTF8.GetString(value.Slice(MessageHeaderSize, idLength));
        Memory<byte> body;
        if (format == FormatPlain)
        {
            var plain = value[headerLength..];
            body = bodies.Allocate(plain.Length);
            plain.CopyTo(body.Span);
        }
        else
        {
            if (cipher is null)
            {
                throw new StorageException(
                    $"Message {conversationId}:{seq} is encrypted but the store was opened without encryption keys. Configure the keys.");
            }

            var sealedBody = value[headerLength..];
            if (sealedBody.Length < MessageCipher.Overhead)
            {
                throw Truncated(conversationId, seq);
            }

            body = bodies.Allocate(sealedBody.Length - MessageCipher.Overhead);
            Span<byte> associatedData = stackalloc byte[AssociatedDataSize(headerLength)];
            WriteAssociatedData(associatedData, conversationId, seq, value[..(headerLength + 1)]);
            cipher.Open(sealedBody, associatedData, body.Span);
        }

        return new LogEntry(
            conversationId,
            seq,
            BinaryPrimitives.ReadUInt32BigEndian(value[1..]),
            BinaryPrimitives.ReadUInt64BigEndian(value[5..]),
            BinaryPrimitives.ReadUInt32BigEndian(value[13..]),
            BinaryPrimitives.ReadInt64BigEndian(value[17..]),
            clientMsgId,
            BinaryPrimitives.ReadUInt16BigEndian(value[25..]),
            body);
    }

    /// <summary>Associated data: <c>conv(8) | seq(8) | header and key id</c>, so a record is bound to its place and envelope.</summary>
    private static int AssociatedDataSize(int headerLength) => 16 + headerLength + 1;

    private static void WriteAssociatedData(Span<byte> destination, ulong conversationId, ulong seq, ReadOnlySpan<byte> headerAndKeyId)
    {
        Keys.Pair(destination, conversationId, seq);
        headerAndKeyId.CopyTo(destination[16..]);
    }

    private static StorageCorruptException Truncated(ulong conversationId, ulong seq) =>
        new($"Message record {conversationId}:{seq} is malformed.");

    // Dedup: conv(8) | seq(8) | epoch(4) | bodyHash(8) | expiresMs(8)
    public static void WriteDedup(Span<byte> destination, in DedupRecord record)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, record.ConversationId);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], record.Seq);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], record.Epoch);
        BinaryPrimitives.WriteUInt64BigEndian(destination[20..], record.BodyHash);
        BinaryPrimitives.WriteInt64BigEndian(destination[28..], record.ExpiresMs);
    }

    public static DedupRecord ReadDedup(ReadOnlySpan<byte> value)
    {
        if (value.Length != DedupValueSize)
        {
            throw new StorageCorruptException("A dedup record is malformed.");
        }

        return new DedupRecord(
            BinaryPrimitives.ReadUInt64BigEndian(value),
            BinaryPrimitives.ReadUInt64BigEndian(value[8..]),
            BinaryPrimitives.ReadUInt32BigEndian(value[16..]),
            BinaryPrimitives.ReadUInt64BigEndian(value[20..]),
            BinaryPrimitives.ReadInt64BigEndian(value[28..]));
    }

    // Head: epoch(4) | head(8). Cursors use the same shape: epoch(4) | seq(8).
    public static void WriteEpochSeq(Span<byte> destination, uint epoch, ulong seq)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, epoch);
        BinaryPrimitives.WriteUInt64BigEndian(destination[4..], seq);
    }

    public static (uint Epoch, ulong Seq) ReadEpochSeq(ReadOnlySpan<byte> value)
    {
        if (value.Length != HeadValueSize)
        {
            throw new StorageCorruptException("A head or cursor record is malformed.");
        }

        return (BinaryPrimitives.ReadUInt32BigEndian(value), BinaryPrimitives.ReadUInt64BigEndian(value[4..]));
    }

    // Conversation meta: kind(1) | createdMs(8) | title(utf8, rest)
    public static byte[] WriteConversationMeta(ConversationKind kind, long createdMs, string title)
    {
        var value = new byte[9 + Encoding.UTF8.GetByteCount(title)];
        value[0] = (byte)kind;
        BinaryPrimitives.WriteInt64BigEndian(value.AsSpan(1), createdMs);
        Encoding.UTF8.GetBytes(title, value.AsSpan(9));
        return value;
    }

    public static (ConversationKind Kind, long CreatedMs, string Title) ReadConversationMeta(ReadOnlySpan<byte> value)
    {
        if (value.Length < 9 || !Enum.IsDefined((ConversationKind)value[0]))
        {
            throw new StorageCorruptException("A conversation record is malformed.");
        }

        return ((ConversationKind)value[0], BinaryPrimitives.ReadInt64BigEndian(value[1..]), Encoding.UTF8.GetString(value[9..]));
    }

    // Member: role(1) | joinedMs(8)
    public static byte[] WriteMember(MemberRole role, long joinedMs)
    {
        var value = new byte[MemberValueSize];
        value[0] = (byte)role;
        BinaryPrimitives.WriteInt64BigEndian(value.AsSpan(1), joinedMs);
        return value;
    }

    public static (MemberRole Role, long JoinedMs) ReadMember(ReadOnlySpan<byte> value)
    {
        if (value.Length != MemberValueSize)
        {
            throw new StorageCorruptException("A member record is malformed.");
        }

        return ((MemberRole)value[0], BinaryPrimitives.ReadInt64BigEndian(value[1..]));
    }

    // User: flags(1: disabled=1, admin=2) | createdMs(8) | nameLength(2) | name | displayName (rest)
    public static byte[] WriteUser(UserRecord user)
    {
        var nameLength = Encoding.UTF8.GetByteCount(user.UserName);
        var value = new byte[11 + nameLength + Encoding.UTF8.GetByteCount(user.DisplayName)];
        value[0] = (byte)((user.Disabled ? 1 : 0) | (user.IsAdmin ? 2 : 0));
        BinaryPrimitives.WriteInt64BigEndian(value.AsSpan(1), user.CreatedMs);
        BinaryPrimitives.WriteUInt16BigEndian(value.AsSpan(9), (ushort)nameLength);
        Encoding.UTF8.GetBytes(user.UserName, value.AsSpan(11));
        Encoding.UTF8.GetBytes(user.DisplayName, value.AsSpan(11 + nameLength));
        return value;
    }

    public static UserRecord ReadUser(ulong userId, ReadOnlySpan<byte> value)
    {
        if (value.Length < 11)
        {
            throw new StorageCorruptException("A user record is malformed.");
        }

        int nameLength = BinaryPrimitives.ReadUInt16BigEndian(value[9..]);
        if (value.Length < 11 + nameLength)
        {
            throw new StorageCorruptException("A user record is malformed.");
        }

        return new UserRecord(
            userId,
            Encoding.UTF8.GetString(value.Slice(11, nameLength)),
            Encoding.UTF8.GetString(value[(11 + nameLength)..]),
            BinaryPrimitives.ReadInt64BigEndian(value[1..]),
            (value[0] & 1) != 0,
            (value[0] & 2) != 0);
    }

    // Device: createdMs(8) | name (utf8, rest)
    public static byte[] WriteDevice(DeviceRecord device)
    {
        var value = new byte[8 + Encoding.UTF8.GetByteCount(device.Name)];
        BinaryPrimitives.WriteInt64BigEndian(value, device.CreatedMs);
        Encoding.UTF8.GetBytes(device.Name, value.AsSpan(8));
        return value;
    }

    public static DeviceRecord ReadDevice(ulong userId, uint deviceId, ReadOnlySpan<byte> value)
    {
        if (value.Length < 8)
        {
            throw new StorageCorruptException("A device record is malformed.");
        }

        return new DeviceRecord(userId, deviceId, Encoding.UTF8.GetString(value[8..]), BinaryPrimitives.ReadInt64BigEndian(value));
    }

    // Token: user(8) | device(4) | createdMs(8) | expiresMs(8) | revoked(1)
    public static byte[] WriteToken(TokenRecord token)
    {
        var value = new byte[TokenValueSize];
        BinaryPrimitives.WriteUInt64BigEndian(value, token.UserId);
        BinaryPrimitives.WriteUInt32BigEndian(value.AsSpan(8), token.DeviceId);
        BinaryPrimitives.WriteInt64BigEndian(value.AsSpan(12), token.CreatedMs);
        BinaryPrimitives.WriteInt64BigEndian(value.AsSpan(20), token.ExpiresMs);
        value[28] = token.Revoked ? (byte)1 : (byte)0;
        return value;
    }

    public static TokenRecord ReadToken(byte[] tokenHash, ReadOnlySpan<byte> value)
    {
        if (value.Length != TokenValueSize)
        {
            throw new StorageCorruptException("A token record is malformed.");
        }

        return new TokenRecord(
            tokenHash,
            BinaryPrimitives.ReadUInt64BigEndian(value),
            BinaryPrimitives.ReadUInt32BigEndian(value[8..]),
            BinaryPrimitives.ReadInt64BigEndian(value[12..]),
            BinaryPrimitives.ReadInt64BigEndian(value[20..]),
            value[28] != 0);
    }
}

/// <summary>What a dedup record remembers about an append.</summary>
internal readonly record struct DedupRecord(ulong ConversationId, ulong Seq, uint Epoch, ulong BodyHash, long ExpiresMs);

/// <summary>Hands out body memory from shared chunks, so a range read allocates per chunk rather than per entry.</summary>
internal struct BodyArena
{
    private const int ChunkSize = 64 * 1024;
    private const int LargeBody = 8 * 1024;

    private byte[]? _chunk;
    private int _used;

    public Memory<byte> Allocate(int length)
    {
        if (length == 0)
        {
            return Memory<byte>.Empty;
        }

        // Not zeroed: every byte handed out is written by the caller before anyone reads it (zeroing 64 KiB chunks
        // showed up in catch-up profiles).
        if (length >= LargeBody)
        {
            return GC.AllocateUninitializedArray<byte>(length);
        }

        if (_chunk is null || _chunk.Length - _used < length)
        {
            _chunk = GC.AllocateUninitializedArray<byte>(ChunkSize);
            _used = 0;
        }

        var memory = _chunk.AsMemory(_used, length);
        _used += length;
        return memory;
    }
}
