using System.Buffers;
using System.Text;
using MessagePack;
using Wren.Protocol.Messages;

namespace Wren.Protocol;

/// <summary>The server envelope of one log entry: everything in a Deliver frame except the body.</summary>
/// <param name="ConversationId">The conversation.</param>
/// <param name="Seq">The entry's seq.</param>
/// <param name="Epoch">The log's epoch.</param>
/// <param name="SenderUserId">The author.</param>
/// <param name="SenderDeviceId">The author's device.</param>
/// <param name="ServerTimeMs">Server time of the append, Unix milliseconds.</param>
/// <param name="ClientMsgId">The author's client message id.</param>
/// <param name="Kind">Entry kind.</param>
public readonly record struct DeliverEnvelope(
    ulong ConversationId,
    ulong Seq,
    uint Epoch,
    ulong SenderUserId,
    uint SenderDeviceId,
    long ServerTimeMs,
    string ClientMsgId,
    EntryKind Kind);

/// <summary>
/// Encodes Deliver frames straight into the output, with no intermediate buffer and no allocation: the body size is
/// computed first so the header can be written before it. The bytes are identical to
/// <see cref="FrameWriter.Write{T}"/> with a <see cref="Deliver"/>.
/// </summary>
/// <remarks>The server encodes each entry once and sends the same bytes to every recipient.</remarks>
public static class DeliverEncoder
{
    private const int FieldCount = 9;

    /// <summary>Size in bytes of the whole frame for this envelope and body.</summary>
    public static int FrameSize(in DeliverEnvelope envelope, int bodyLength) =>
        FrameHeader.Size + BodySize(envelope, bodyLength);

    /// <summary>Writes one Deliver frame.</summary>
    public static void Write(IBufferWriter<byte> output, uint requestId, in DeliverEnvelope envelope, ReadOnlySpan<byte> body)
    {
        int bodySize = BodySize(envelope, body.Length);
        FrameWriter.WriteHeader(output, MessageType.Deliver, requestId, bodySize);
        WriteBody(output, envelope, body);
    }

    /// <summary>Writes the MessagePack body of a Deliver (the 9-element array) without a frame header.</summary>
    public static void WriteBody(IBufferWriter<byte> output, in DeliverEnvelope envelope, ReadOnlySpan<byte> body)
    {
        var writer = new MessagePackWriter(output);
        writer.WriteArrayHeader(FieldCount);
        writer.Write(envelope.ConversationId);
        writer.Write(envelope.Seq);
        writer.Write(envelope.Epoch);
        writer.Write(envelope.SenderUserId);
        writer.Write(envelope.SenderDeviceId);
        writer.Write(envelope.ServerTimeMs);
        writer.Write(envelope.ClientMsgId);
        writer.Write((ushort)envelope.Kind);
        writer.Write(body);
        writer.Flush();
    }

    /// <summary>Size in bytes of the MessagePack body of a Deliver.</summary>
    public static int BodySize(in DeliverEnvelope envelope, int bodyLength) =>
        1 // fixarray header
        + MessagePackSize.Unsigned(envelope.ConversationId)
        + MessagePackSize.Unsigned(envelope.Seq)
        + MessagePackSize.Unsigned(envelope.Epoch)
        + MessagePackSize.Unsigned(envelope.SenderUserId)
        + MessagePackSize.Unsigned(envelope.SenderDeviceId)
        + MessagePackSize.Signed(envelope.ServerTimeMs)
        + MessagePackSize.String(envelope.ClientMsgId)
        + MessagePackSize.Unsigned((ushort)envelope.Kind)
        + MessagePackSize.Binary(bodyLength);
}

/// <summary>Encoded sizes of MessagePack values, matching what <see cref="MessagePackWriter"/> writes.</summary>
public static class MessagePackSize
{
    /// <summary>Size of an unsigned integer in its smallest encoding.</summary>
    public static int Unsigned(ulong value) => value switch
    {
        <= 0x7f => 1,
        <= byte.MaxValue => 2,
        <= ushort.MaxValue => 3,
        <= uint.MaxValue => 5,
        _ => 9,
    };

    /// <summary>Size of a signed integer in its smallest encoding.</summary>
    public static int Signed(long value) => value switch
    {
        >= 0 => Unsigned((ulong)value),
        >= -32 => 1,
        >= sbyte.MinValue => 2,
        >= short.MinValue => 3,
        >= int.MinValue => 5,
        _ => 9,
    };

    /// <summary>Size of a UTF-8 string (nil for null).</summary>
    public static int String(string? value)
    {
        if (value is null)
        {
            return 1;
        }

        int length = Encoding.UTF8.GetByteCount(value);
        return length switch
        {
            <= 31 => 1,
            <= byte.MaxValue => 2,
            <= ushort.MaxValue => 3,
            _ => 5,
        } + length;
    }

    /// <summary>Size of a binary value of <paramref name="length"/> bytes.</summary>
    public static int Binary(int length) => length switch
    {
        <= byte.MaxValue => 2,
        <= ushort.MaxValue => 3,
        _ => 5,
    } + length;
}
