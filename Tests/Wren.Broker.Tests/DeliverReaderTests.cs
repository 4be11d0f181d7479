using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Wren.Client;
using Wren.Protocol;
using Wren.Protocol.Messages;

using Wren.Protocol.Tests;

namespace Wren.Broker.Tests;

/// <summary>
/// The client's direct Deliver decoder agrees with <see cref="MessageCodec"/> on every body the server writes, at every
/// split point, and declines (so the general decoder answers) everything outside the server's layout.
/// </summary>
public class DeliverReaderTests
{
    private static readonly ulong[] s_unsigned = [0, 127, 128, 255, 256, 65_535, 65_536, uint.MaxValue, uint.MaxValue + 1ul, ulong.MaxValue];

    private static readonly uint[] s_unsigned32 = [0, 127, 128, 255, 256, 65_535, 65_536, uint.MaxValue];

    private static readonly long[] s_signed =
    [
        0, 127, 128, 255, 256, 65_535, 65_536, uint.MaxValue, uint.MaxValue + 1L, long.MaxValue,
        -1, -32, -33, -128, -129, -32_768, -32_769, int.MinValue, int.MinValue - 1L, long.MinValue,
    ];

    private static readonly DeliverEnvelope s_base = new(42, 7, 1, 1001, 3, 1_700_000_000_000, "c-1", EntryKind.Message);

    [Fact]
    public void TryRead_ServerLayout_MatchesMessageCodecAtEveryIntegerBoundary()
    {
        var body = "hi"u8.ToArray();
        foreach (ulong value in s_unsigned)
        {
            AssertSameAsCodec(s_base with { ConversationId = value, Seq = value, SenderUserId = value }, body);
        }

        foreach (uint value in s_unsigned32)
        {
            AssertSameAsCodec(s_base with { Epoch = value, SenderDeviceId = value }, body);
        }

        foreach (long value in s_signed)
        {
            AssertSameAsCodec(s_base with { ServerTimeMs = value }, body);
        }

        foreach (ushort kind in new ushort[] { 0, 1, 127, 128, 255, 256, 65_535 })
        {
            AssertSameAsCodec(s_base with { Kind = (EntryKind)kind }, body);
        }
    }

    [Fact]
    public void TryRead_ServerLayout_MatchesMessageCodecAtEveryLengthBoundaryWithinTheLimits()
    {
        var limits = ProtocolLimits.Default;
        foreach (int idLength in new[] { 0, 1, 31, 32, limits.MaxClientMessageIdBytes })
        {
            AssertSameAsCodec(s_base with { ClientMsgId = new string('x', idLength) }, "b"u8.ToArray());
        }

        AssertSameAsCodec(s_base with { ClientMsgId = "é-ü-€-😀" }, "b"u8.ToArray());
        foreach (int bodyLength in new[] { 0, 1, 255, 256, 65_535, limits.MaxMessageBodyBytes })
        {
            AssertSameAsCodec(s_base, Enumerable.Range(0, bodyLength).Select(i => (byte)i).ToArray());
        }
    }

    [Fact]
    public void TryRead_SplitAtEveryPosition_DecodesTheSameMessage()
    {
        byte[] frameBody = Body(s_base, Encoding.UTF8.GetBytes("a body that crosses segment boundaries"));
        var expected = Decode(frameBody);
        for (int split = 1; split < frameBody.Length; split++)
        {
            Assert.True(DeliverReader.TryRead(TestSequences.SplitAt(frameBody, split), ProtocolLimits.Default, out var deliver), $"split at {split}");
            AssertSame(expected, deliver);
        }

        // A body longer than the stack copy, split in three.
        byte[] large = Body(s_base, new byte[5000]);
        Assert.True(DeliverReader.TryRead(TestSequences.SplitAt(large, 10, 2600), ProtocolLimits.Default, out var fromLarge));
        AssertSame(Decode(large), fromLarge);
    }

    [Fact]
    public void TryRead_MessagePackSerializedDeliver_MatchesMessageCodec()
    {
        var deliver = new Deliver
        {
            ConversationId = 9, Seq = 300, Epoch = 2, SenderUserId = 70_000, SenderDeviceId = 1, ServerTimeMs = 5,
            ClientMsgId = "id", Kind = EntryKind.Edit, Body = [1, 2, 3],
        };
        byte[] frame = FrameWriter.ToArray(0, deliver);
        byte[] body = frame[FrameHeader.Size..];
        Assert.True(DeliverReader.TryRead(new ReadOnlySequence<byte>(body), ProtocolLimits.Default, out var read));
        AssertSame(deliver, read);
    }

    /// <summary>Bodies outside the server's layout or past a limit are declined, whatever the general decoder makes of them.</summary>
    [Fact]
    public void TryRead_OutsideTheServerLayout_Declines()
    {
        var limits = ProtocolLimits.Default;
        byte[] valid = Body(s_base, "body"u8.ToArray());
        Assert.True(DeliverReader.TryRead(valid.AsSpan(), limits, out _));

        // Array header other than 9 elements, and no body at all.
        Assert.False(DeliverReader.TryRead(ReadOnlySpan<byte>.Empty, limits, out _));
        Assert.False(DeliverReader.TryRead([0x98, .. valid[1..]], limits, out _));
        Assert.False(DeliverReader.TryRead([0x9a, .. valid[1..], 0xc0], limits, out _));

        // Truncated anywhere, and a trailing byte.
        for (int length = 1; length < valid.Length; length++)
        {
            Assert.False(DeliverReader.TryRead(valid.AsSpan(0, length), limits, out _), $"truncated to {length}");
        }

        Assert.False(DeliverReader.TryRead([.. valid, 0x00], limits, out _));

        // A signed encoding of an unsigned field (valid MessagePack, not the server's layout).
        Assert.False(DeliverReader.TryRead([0x99, 0xd0, 0x05, .. valid[2..]], limits, out _));

        // An epoch past 32 bits (a wide encoding of one within 32 bits is still read).
        Assert.False(DeliverReader.TryRead(WithWideEpoch(s_base, ulong.MaxValue), limits, out _));
        Assert.True(DeliverReader.TryRead(WithWideEpoch(s_base, uint.MaxValue), limits, out var wide));
        Assert.Equal(uint.MaxValue, wide.Epoch);
        AssertSame(Decode(WithWideEpoch(s_base, uint.MaxValue)), wide);

        // Client message id: nil, invalid UTF-8, one byte past the limit.
        Assert.False(DeliverReader.TryRead(WithClientMsgId(s_base, [0xc0]), limits, out _));
        Assert.False(DeliverReader.TryRead(WithClientMsgId(s_base, [0xa2, 0xc3, 0x28]), limits, out _));
        byte[] longId = Encoding.UTF8.GetBytes(new string('x', limits.MaxClientMessageIdBytes + 1));
        Assert.False(DeliverReader.TryRead(WithClientMsgId(s_base, [0xd9, (byte)longId.Length, .. longId]), limits, out _));

        // Body one byte past the limit, and a body given as a string.
        Assert.False(DeliverReader.TryRead(Body(s_base, new byte[limits.MaxMessageBodyBytes + 1]).AsSpan(), limits, out _));
        byte[] stringBody = [.. valid[..^6], 0xa4, .. "body"u8];
        Assert.False(DeliverReader.TryRead(stringBody, limits, out _));
    }

    /// <summary>Each body the reader declines is one the general decoder rejects too, or decodes to the same message.</summary>
    [Fact]
    public void TryRead_Declined_IsLeftToMessageCodecWhichRejectsTheOnesOutsideTheLimits()
    {
        var limits = ProtocolLimits.Default;
        byte[] longId = Encoding.UTF8.GetBytes(new string('x', limits.MaxClientMessageIdBytes + 1));
        foreach (byte[] body in new[]
        {
            WithClientMsgId(s_base, [0xc0]),
            WithClientMsgId(s_base, [0xd9, (byte)longId.Length, .. longId]),
            Body(s_base, new byte[limits.MaxMessageBodyBytes + 1]),
        })
        {
            Assert.False(DeliverReader.TryRead(body.AsSpan(), limits, out _));
            Assert.False(MessageCodec.TryDecode((byte)MessageType.Deliver, new ReadOnlySequence<byte>(body), limits, out _).IsSuccess);
        }
    }

    private static void AssertSameAsCodec(DeliverEnvelope envelope, byte[] content)
    {
        byte[] body = Body(envelope, content);
        Assert.True(DeliverReader.TryRead(new ReadOnlySequence<byte>(body), ProtocolLimits.Default, out var read), $"declined {envelope}");
        AssertSame(Decode(body), read);
    }

    private static Deliver Decode(byte[] body)
    {
        var result = MessageCodec.TryDecode((byte)MessageType.Deliver, new ReadOnlySequence<byte>(body), ProtocolLimits.Default, out var message);
        Assert.True(result.IsSuccess, result.Error.ToString());
        return Assert.IsType<Deliver>(message);
    }

    private static void AssertSame(Deliver expected, Deliver actual)
    {
        Assert.Equal(expected.ConversationId, actual.ConversationId);
        Assert.Equal(expected.Seq, actual.Seq);
        Assert.Equal(expected.Epoch, actual.Epoch);
        Assert.Equal(expected.SenderUserId, actual.SenderUserId);
        Assert.Equal(expected.SenderDeviceId, actual.SenderDeviceId);
        Assert.Equal(expected.ServerTimeMs, actual.ServerTimeMs);
        Assert.Equal(expected.ClientMsgId, actual.ClientMsgId);
        Assert.Equal(expected.Kind, actual.Kind);
        Assert.Equal(expected.Body, actual.Body);
    }

    /// <summary>The MessagePack body of the Deliver frame the server writes for this entry.</summary>
    private static byte[] Body(in DeliverEnvelope envelope, byte[] content)
    {
        var output = new ArrayBufferWriter<byte>();
        DeliverEncoder.WriteBody(output, envelope, content);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>The body of <paramref name="envelope"/> with its client message id value replaced by raw bytes.</summary>
    private static byte[] WithClientMsgId(in DeliverEnvelope envelope, byte[] rawValue)
    {
        // An empty id encodes as the single byte 0xa0, placed right after the six integer fields.
        byte[] body = Body(envelope with { ClientMsgId = "" }, "b"u8.ToArray());
        int at = 1 + MessagePackSize.Unsigned(envelope.ConversationId) + MessagePackSize.Unsigned(envelope.Seq)
            + MessagePackSize.Unsigned(envelope.Epoch) + MessagePackSize.Unsigned(envelope.SenderUserId)
            + MessagePackSize.Unsigned(envelope.SenderDeviceId) + MessagePackSize.Signed(envelope.ServerTimeMs);
        Assert.Equal(0xa0, body[at]);
        return [.. body[..at], .. rawValue, .. body[(at + 1)..]];
    }

    /// <summary>The body of <paramref name="envelope"/> with its epoch written as a uint64 holding <paramref name="epoch"/>.</summary>
    private static byte[] WithWideEpoch(in DeliverEnvelope envelope, ulong epoch)
    {
        byte[] body = Body(envelope with { Epoch = 0 }, "body"u8.ToArray());
        int at = 1 + MessagePackSize.Unsigned(envelope.ConversationId) + MessagePackSize.Unsigned(envelope.Seq);
        Assert.Equal(0x00, body[at]);
        byte[] wide = new byte[9];
        wide[0] = 0xcf;
        BinaryPrimitives.WriteUInt64BigEndian(wide.AsSpan(1), epoch);
        return [.. body[..at], .. wide, .. body[(at + 1)..]];
    }
}
