using System.Buffers;
using System.Text;
using Wren.Protocol;
using Wren.Protocol.Messages;

namespace Wren.Benchmarks;

/// <summary>The message-body sizes the protocol benchmarks run with.</summary>
public enum ProtocolPayload
{
    /// <summary>A short chat line: 30 bytes of UTF-8 text (a Send frame of about 100 bytes).</summary>
    SmallText,

    /// <summary>A typical message: 200 bytes of UTF-8 text.</summary>
    Typical,

    /// <summary>A large message: 8 KiB of incompressible bytes (rich text, an encrypted blob).</summary>
    Large,
}

/// <summary>
/// Realistic, deterministic inputs for the protocol benchmarks: ids in the ranges a live server uses, a UUID client
/// message id, and bodies from <see cref="ProtocolPayload"/>.
/// </summary>
public static class ProtocolCorpus
{
    /// <summary>Frames per batch in the batch benchmarks: about one socket read or one coalesced flush.</summary>
    public const int BatchSize = 64;

    /// <summary>A conversation id past 2^32, so it takes the 9-byte MessagePack encoding.</summary>
    public const ulong ConversationId = 0x0000_0001_0000_2A2Aul;

    private const string ShortText = "on my way, see you at 7pm! :)";
    private const string Paragraph =
        "Thanks for the notes from this morning. I read through the draft and left comments on the second section; " +
        "the numbers in the table look right to me but the summary should say which quarter they refer to. Talk soon!";

    /// <summary>The message body for <paramref name="payload"/>.</summary>
    public static byte[] Body(ProtocolPayload payload)
    {
        switch (payload)
        {
            case ProtocolPayload.SmallText:
                return Encoding.UTF8.GetBytes(ShortText.PadRight(30, '.'));
            case ProtocolPayload.Typical:
                return Encoding.UTF8.GetBytes(Paragraph[..200]);
            case ProtocolPayload.Large:
                var bytes = new byte[8 * 1024];
                new Random(42).NextBytes(bytes);
                return bytes;
            default:
                throw new ArgumentOutOfRangeException(nameof(payload));
        }
    }

    /// <summary>A client message id in the form clients generate: a UUID string (36 characters).</summary>
    public static string ClientMsgId(int index) => new Guid(index, 0x1234, 0x5678, 1, 2, 3, 4, 5, 6, 7, 8).ToString();

    /// <summary>A Send as a client writes it.</summary>
    public static Send Send(byte[] body) => new()
    {
        ConversationId = ConversationId,
        ClientMsgId = ClientMsgId(0),
        Kind = EntryKind.Message,
        Body = body,
    };

    /// <summary>The envelope of the <paramref name="index"/>-th entry of a busy conversation.</summary>
    public static DeliverEnvelope Envelope(int index) => new(
        ConversationId,
        Seq: 1_000_000ul + (ulong)index,
        Epoch: 1,
        SenderUserId: 7_340_033ul + (ulong)(index % 5),
        SenderDeviceId: 2,
        ServerTimeMs: 1_767_225_600_000L + (index * 37L),
        ClientMsgId: ClientMsgId(index),
        Kind: EntryKind.Message);

    /// <summary>The Deliver object carrying the same entry as <see cref="Envelope"/>.</summary>
    public static Deliver Deliver(int index, byte[] body)
    {
        var envelope = Envelope(index);
        return new Deliver
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

    /// <summary>One whole Send frame.</summary>
    public static byte[] SendFrame(byte[] body) => FrameWriter.ToArray(requestId: 17, Send(body));

    /// <summary><see cref="BatchSize"/> consecutive Deliver frames back to back, and where each frame starts.</summary>
    public static byte[] DeliverBatch(byte[] body, out int[] frameStarts)
    {
        var output = new ArrayBufferWriter<byte>();
        frameStarts = new int[BatchSize];
        for (int i = 0; i < BatchSize; i++)
        {
            frameStarts[i] = output.WrittenCount;
            DeliverEncoder.Write(output, requestId: 0, Envelope(i), body);
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>
    /// <paramref name="bytes"/> as a multi-segment sequence cut at the given ascending positions, each piece in its
    /// own array, the way a pipe hands over data that arrived in several reads.
    /// </summary>
    public static ReadOnlySequence<byte> Split(byte[] bytes, params ReadOnlySpan<int> positions)
    {
        int start = 0;
        ProtocolSegment? first = null;
        ProtocolSegment? last = null;
        for (int i = 0; i <= positions.Length; i++)
        {
            int end = i < positions.Length ? positions[i] : bytes.Length;
            byte[] piece = bytes[start..end];
            last = last is null ? first = new ProtocolSegment(piece, 0) : last.Append(piece);
            start = end;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class ProtocolSegment : ReadOnlySequenceSegment<byte>
    {
        public ProtocolSegment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public ProtocolSegment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new ProtocolSegment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
