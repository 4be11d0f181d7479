using System.Buffers;
using System.Text;
using Wren.Protocol.Messages;

namespace Wren.Protocol.Tests;

/// <summary><see cref="DeliverEncoder"/> writes exactly what <see cref="FrameWriter"/> writes for a <see cref="Deliver"/>.</summary>
public class DeliverEncoderTests
{
    // Each boundary of MessagePack's integer encodings: fixint, 8, 16, 32 and 64 bits.
    private static readonly ulong[] s_unsigned = [0, 127, 128, 255, 256, 65_535, 65_536, uint.MaxValue, uint.MaxValue + 1ul, ulong.MaxValue];

    private static readonly uint[] s_unsigned32 = [0, 127, 128, 255, 256, 65_535, 65_536, uint.MaxValue];

    private static readonly long[] s_signed =
    [
        0, 127, 128, 255, 256, 65_535, 65_536, uint.MaxValue, uint.MaxValue + 1L, long.MaxValue,
        -1, -32, -33, -128, -129, -32_768, -32_769, int.MinValue, int.MinValue - 1L, long.MinValue,
    ];

    private static readonly int[] s_clientMsgIdLengths = [0, 1, 31, 32, 255, 256, 65_535, 65_536];

    private static readonly int[] s_bodyLengths = [0, 1, 255, 256, 65_535, 65_536];

    private static readonly DeliverEnvelope s_base = new(42, 7, 1, 1001, 3, 1_700_000_000_000, "c-1", EntryKind.Message);

    [Fact]
    public void Encoder_matches_frame_writer_at_every_integer_size_boundary_of_every_field()
    {
        var body = "hi"u8.ToArray();
        foreach (ulong value in s_unsigned)
        {
            AssertSameAsFrameWriter($"conversation {value}", 0, s_base with { ConversationId = value }, body);
            AssertSameAsFrameWriter($"seq {value}", 0, s_base with { Seq = value }, body);
            AssertSameAsFrameWriter($"sender user {value}", 0, s_base with { SenderUserId = value }, body);
            AssertSameAsFrameWriter($"all unsigned {value}", 0, s_base with { ConversationId = value, Seq = value, SenderUserId = value }, body);
        }

        foreach (uint value in s_unsigned32)
        {
            AssertSameAsFrameWriter($"epoch {value}", 0, s_base with { Epoch = value }, body);
            AssertSameAsFrameWriter($"sender device {value}", 0, s_base with { SenderDeviceId = value }, body);
            AssertSameAsFrameWriter($"request id {value}", value, s_base, body);
        }

        foreach (long value in s_signed)
        {
            AssertSameAsFrameWriter($"server time {value}", 0, s_base with { ServerTimeMs = value }, body);
        }

        foreach (ushort kind in new ushort[] { 0, 1, 2, 3, 127, 128, 255, 256, 65_535 })
        {
            AssertSameAsFrameWriter($"kind {kind}", 0, s_base with { Kind = (EntryKind)kind }, body);
        }
    }

    [Fact]
    public void Encoder_matches_frame_writer_at_every_client_msg_id_and_body_length_boundary()
    {
        foreach (int idLength in s_clientMsgIdLengths)
        {
            foreach (int bodyLength in s_bodyLengths)
            {
                var envelope = s_base with { ClientMsgId = new string('m', idLength) };
                var body = new byte[bodyLength];
                Random.Shared.NextBytes(body);
                AssertSameAsFrameWriter($"client msg id {idLength} bytes, body {bodyLength} bytes", 1, envelope, body);
            }
        }
    }

    [Fact]
    public void Encoder_sizes_a_multi_byte_client_msg_id_in_utf8_bytes_not_chars()
    {
        var body = "hi"u8.ToArray();
        string[] ids =
        [
            new string('é', 15) + "a", // 16 chars, 31 bytes
            new string('é', 16),       // 16 chars, 32 bytes: str 8
            new string('€', 85),       // 255 bytes
            new string('€', 86),       // 258 bytes: str 16
            string.Concat(Enumerable.Repeat("😀", 8)), // 16 chars (surrogate pairs), 32 bytes
            "\ud800" + new string('a', 28),  // a lone surrogate, written as U+FFFD: 31 bytes
            "\ud800" + new string('a', 29),  // 32 bytes
        ];
        foreach (string id in ids)
        {
            AssertSameAsFrameWriter($"client msg id of {Encoding.UTF8.GetByteCount(id)} UTF-8 bytes", 0, s_base with { ClientMsgId = id }, body);
        }
    }

    [Fact]
    public void Encoder_writes_a_null_client_msg_id_as_nil_like_frame_writer()
    {
        AssertSameAsFrameWriter("null client msg id", 0, s_base with { ClientMsgId = null! }, "hi"u8.ToArray());
    }

    [Fact]
    public void Encoder_reproduces_the_deliver_golden_vector()
    {
        var output = new ArrayBufferWriter<byte>();

        DeliverEncoder.Write(output, 0, s_base, "hi"u8);

        Assert.Equal(Hex.Of(GoldenVectors.For(MessageType.Deliver).Bytes), Hex.Of(output.WrittenSpan));
    }

    [Fact]
    public void Encoder_output_decodes_to_the_envelope_and_body()
    {
        var envelope = s_base with { ConversationId = ulong.MaxValue, ServerTimeMs = -1, ClientMsgId = "ü-1" };
        var output = new ArrayBufferWriter<byte>();
        DeliverEncoder.Write(output, 9, envelope, "hello"u8);

        var result = TestFrames.Decode(output.WrittenSpan.ToArray(), out var message);

        Assert.True(result.IsSuccess, result.ToString());
        MessageAssert.Equal(ToDeliver(envelope, "hello"u8.ToArray()), message);
    }

    private static void AssertSameAsFrameWriter(string name, uint requestId, DeliverEnvelope envelope, byte[] body)
    {
        var expected = FrameWriter.ToArray(requestId, ToDeliver(envelope, body));

        var frame = new MinimalSpanBufferWriter();
        DeliverEncoder.Write(frame, requestId, envelope, body);
        AssertSameBytes(name, "Write", expected, frame.WrittenSpan);

        var bodyOnly = new ArrayBufferWriter<byte>(1);
        DeliverEncoder.WriteBody(bodyOnly, envelope, body);
        AssertSameBytes(name, "WriteBody", expected.AsSpan(FrameHeader.Size), bodyOnly.WrittenSpan);

        if (DeliverEncoder.FrameSize(envelope, body.Length) != expected.Length)
        {
            Assert.Fail($"{name}: FrameSize is {DeliverEncoder.FrameSize(envelope, body.Length)}, the frame has {expected.Length} bytes");
        }

        if (DeliverEncoder.BodySize(envelope, body.Length) != expected.Length - FrameHeader.Size)
        {
            Assert.Fail($"{name}: BodySize is {DeliverEncoder.BodySize(envelope, body.Length)}, the body has {expected.Length - FrameHeader.Size} bytes");
        }
    }

    private static void AssertSameBytes(string name, string method, ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual)
    {
        if (!expected.SequenceEqual(actual))
        {
            int at = expected.CommonPrefixLength(actual);
            Assert.Fail(
                $"{name}: DeliverEncoder.{method} wrote {actual.Length} bytes, FrameWriter {expected.Length}; first difference at byte {at}: "
                + $"expected {Hex.Of(expected[at..Math.Min(expected.Length, at + 16)])}, got {Hex.Of(actual[at..Math.Min(actual.Length, at + 16)])}");
        }
    }

    private static Deliver ToDeliver(in DeliverEnvelope envelope, byte[] body) => new()
    {
        ConversationId = envelope.ConversationId,
        Seq = envelope.Seq,
        Epoch = envelope.Epoch,
        SenderUserId = envelope.SenderUserId,
        SenderDeviceId = envelope.SenderDeviceId,
        ServerTimeMs = envelope.ServerTimeMs,
        ClientMsgId = envelope.ClientMsgId,
        Kind = envelope.Kind,
        Body = body,
    };
}
