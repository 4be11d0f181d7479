using System.Buffers;
using System.Reflection;
using System.Text;
using Wren.Protocol.Messages;

namespace Wren.Protocol.Tests;

/// <summary>The encoder produces the golden bytes for every message type, and the bytes decode back to the sample.</summary>
public class GoldenVectorTests
{
    public static TheoryData<MessageType> Types => GoldenVectors.Types;

    [Fact]
    public void Every_message_type_has_exactly_one_golden_vector_in_type_order()
    {
        Assert.Equal(Enum.GetValues<MessageType>(), GoldenVectors.All.Select(v => v.Type));
        Assert.All(GoldenVectors.All, v => Assert.Equal(v.Type, v.Message.Type));
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Writer_produces_the_golden_bytes(MessageType type)
    {
        var vector = GoldenVectors.For(type);

        var bytes = FrameWriter.ToArray(vector.RequestId, vector.Message);

        Assert.Equal(Hex.Of(vector.Bytes), Hex.Of(bytes));
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Writer_produces_the_golden_bytes_when_called_with_the_concrete_type(MessageType type)
    {
        var vector = GoldenVectors.For(type);
        var writeConcrete = typeof(GoldenVectorTests)
            .GetMethod(nameof(WriteConcrete), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(vector.Message.GetType());

        var bytes = (byte[])writeConcrete.Invoke(null, [vector.RequestId, vector.Message])!;

        Assert.Equal(Hex.Of(vector.Bytes), Hex.Of(bytes));
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Writer_produces_the_golden_bytes_into_a_writer_that_hands_out_minimal_spans(MessageType type)
    {
        var vector = GoldenVectors.For(type);
        var output = new MinimalSpanBufferWriter();

        FrameWriter.Write(output, vector.RequestId, vector.Message);

        Assert.Equal(Hex.Of(vector.Bytes), Hex.Of(output.WrittenSpan));
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Golden_bytes_read_as_one_frame_with_the_documented_header(MessageType type)
    {
        var vector = GoldenVectors.For(type);
        var bytes = vector.Bytes;

        var read = TestFrames.ReadOne(bytes);

        Assert.Equal(FrameStatus.Complete, read.Status);
        Assert.Equal(ErrorCode.None, read.Error);
        Assert.Equal(bytes.Length, read.Consumed);
        Assert.Equal((uint)(bytes.Length - FrameHeader.LengthFieldSize), read.Header.Length);
        Assert.Equal((byte)type, read.Header.Type);
        Assert.Equal(type, read.Header.MessageType);
        Assert.Equal(FrameFlags.None, read.Header.Flags);
        Assert.Equal(vector.RequestId, read.Header.RequestId);
        Assert.Equal(bytes.Length - FrameHeader.Size, read.Header.BodyLength);
        Assert.Equal(bytes[FrameHeader.Size..], read.Body);
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Golden_bytes_decode_to_the_sample_field_by_field(MessageType type)
    {
        var vector = GoldenVectors.For(type);

        var result = TestFrames.Decode(vector.Bytes, out var message);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.NotNull(message);
        Assert.Equal(type, message.Type);
        MessageAssert.Equal(vector.Message, message);
    }

    [Fact]
    public void Send_golden_vector_decodes_to_conversation_42_client_msg_id_c1_and_body_hi()
    {
        var result = TestFrames.Decode(GoldenVectors.For(MessageType.Send).Bytes, out var message);

        Assert.True(result.IsSuccess, result.ToString());
        var send = Assert.IsType<Send>(message);
        Assert.Equal(42ul, send.ConversationId);
        Assert.Equal("c-1", send.ClientMsgId);
        Assert.Equal(EntryKind.Message, send.Kind);
        Assert.Equal("hi", Encoding.UTF8.GetString(send.Body));
    }

    [Fact]
    public void Empty_body_types_decode_to_the_shared_instances()
    {
        Assert.True(TestFrames.Decode(GoldenVectors.For(MessageType.Ping).Bytes, out var ping).IsSuccess);
        Assert.True(TestFrames.Decode(GoldenVectors.For(MessageType.Pong).Bytes, out var pong).IsSuccess);
        Assert.True(TestFrames.Decode(GoldenVectors.For(MessageType.Ok).Bytes, out var ok).IsSuccess);
        Assert.Same(EmptyMessage.Ping, ping);
        Assert.Same(EmptyMessage.Pong, pong);
        Assert.Same(EmptyMessage.Ok, ok);
    }

    [Fact]
    public void Golden_vector_hex_in_source_is_grouped_as_in_the_docs()
    {
        Assert.All(GoldenVectors.All, v => Assert.Equal(GoldenVectorDocs.GroupedHex(v.Bytes), v.Hex));
    }

    [Fact]
    public void Protocol_doc_appendix_shows_exactly_the_golden_vectors()
    {
        string path = GoldenVectorDocs.ProtocolDocPath();
        string expected = GoldenVectorDocs.Render();
        string document = File.ReadAllText(path);
        var (start, end) = GoldenVectorDocs.FindRegion(document);

        if (Environment.GetEnvironmentVariable(GoldenVectorDocs.UpdateVariable) == "1")
        {
            if (document[start..end] != expected)
            {
                File.WriteAllText(path, string.Concat(document.AsSpan(0, start), expected, document.AsSpan(end)), new UTF8Encoding(false));
            }

            return;
        }

        Assert.Equal(expected, document[start..end]);
    }

    private static byte[] WriteConcrete<T>(uint requestId, T message)
        where T : IMessage => FrameWriter.ToArray(requestId, message);
}

/// <summary>An <see cref="IBufferWriter{T}"/> whose spans are exactly as large as asked for, like a nearly full pipe segment.</summary>
internal sealed class MinimalSpanBufferWriter : IBufferWriter<byte>
{
    private byte[] _written = new byte[16];
    private byte[] _pending = [];
    private int _count;

    public ReadOnlySpan<byte> WrittenSpan => _written.AsSpan(0, _count);

    public void Advance(int count)
    {
        if (count < 0 || count > _pending.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }

        if (_count + count > _written.Length)
        {
            Array.Resize(ref _written, Math.Max(_written.Length * 2, _count + count));
        }

        _pending.AsSpan(0, count).CopyTo(_written.AsSpan(_count));
        _count += count;
        _pending = [];
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        _pending = new byte[Math.Max(sizeHint, 1)];
        return _pending;
    }

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;
}
