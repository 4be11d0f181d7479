using System.Buffers.Binary;
using System.Text;

namespace Wren.Storage.Internal;

/// <summary>Column family names and big-endian key layouts (numeric order equals byte order).</summary>
internal static class Keys
{
    public const string Messages = "messages";
    public const string Conversations = "conversations";
    public const string Members = "members";
    public const string UserConversations = "user_conversations";
    public const string Direct = "direct";
    public const string Cursors = "cursors";
    public const string ReadCursors = "read_cursors";
    public const string Dedup = "dedup";
    public const string DedupExpiry = "dedup_expiry";
    public const string Users = "users";
    public const string UserNames = "user_names";
    public const string Devices = "devices";
    public const string Tokens = "tokens";
    public const string UserTokens = "user_tokens";
    public const string Meta = "meta";
    public const string Audit = "audit";
    public const string Credentials = "credentials";

    public static readonly string[] AllFamilies =
    [
        Messages, Conversations, Members, UserConversations, Direct, Cursors, ReadCursors, Dedup, DedupExpiry,
        Users, UserNames, Devices, Tokens, UserTokens, Meta, Credentials, Audit,
    ];

    /// <summary>Suffix of the conversation description record in <see cref="Conversations"/>.</summary>
    public const byte ConversationMetaTag = 0;

    /// <summary>Suffix of the conversation head record in <see cref="Conversations"/>.</summary>
    public const byte ConversationHeadTag = 1;

    public static readonly byte[] LayoutKey = Encoding.ASCII.GetBytes("layout");
    public static readonly byte[] NextConversationKey = Encoding.ASCII.GetBytes("next.conversation");
    public static readonly byte[] NextUserKey = Encoding.ASCII.GetBytes("next.user");

    public static void Write(Span<byte> destination, ulong a) => BinaryPrimitives.WriteUInt64BigEndian(destination, a);

    /// <summary>Writes <c>a(8) | b(8)</c>.</summary>
    public static void Pair(Span<byte> destination, ulong a, ulong b)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], b);
    }

    public static byte[] Pair(ulong a, ulong b)
    {
        var key = new byte[16];
        Pair(key, a, b);
        return key;
    }

    public static byte[] U64(ulong a)
    {
        var key = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(key, a);
        return key;
    }

    /// <summary>Writes <c>conv(8) | tag(1)</c>.</summary>
    public static void Conversation(Span<byte> destination, ulong conversationId, byte tag)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, conversationId);
        destination[8] = tag;
    }

    /// <summary>Writes <c>user(8) | device(4) | conv(8)</c>.</summary>
    public static void Cursor(Span<byte> destination, ulong userId, uint deviceId, ulong conversationId)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, userId);
        BinaryPrimitives.WriteUInt32BigEndian(destination[8..], deviceId);
        BinaryPrimitives.WriteUInt64BigEndian(destination[12..], conversationId);
    }

    /// <summary>Writes <c>user(8) | device(4)</c>.</summary>
    public static byte[] Device(ulong userId, uint deviceId)
    {
        var key = new byte[12];
        BinaryPrimitives.WriteUInt64BigEndian(key, userId);
        BinaryPrimitives.WriteUInt32BigEndian(key.AsSpan(8), deviceId);
        return key;
    }

    /// <summary>Writes <c>sender(8) | clientMsgId(utf8)</c>; returns the length.</summary>
    public static int DedupKey(Span<byte> destination, ulong senderUserId, string clientMsgId)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, senderUserId);
        return 8 + Encoding.UTF8.GetBytes(clientMsgId, destination[8..]);
    }

    /// <summary>Writes <c>expiresMs(8) | sender(8) | clientMsgId(utf8)</c> from a dedup key; returns the length.</summary>
    public static int DedupExpiryKey(Span<byte> destination, long expiresMs, ReadOnlySpan<byte> dedupKey)
    {
        BinaryPrimitives.WriteInt64BigEndian(destination, expiresMs);
        dedupKey.CopyTo(destination[8..]);
        return 8 + dedupKey.Length;
    }

    public static ulong ReadU64(ReadOnlySpan<byte> source) => BinaryPrimitives.ReadUInt64BigEndian(source);

    public static uint ReadU32(ReadOnlySpan<byte> source) => BinaryPrimitives.ReadUInt32BigEndian(source);
}
