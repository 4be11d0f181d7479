using System.Buffers;
using Wren.Protocol;

namespace Wren.Cli.Doctor;

/// <summary>
/// Frames over a stream without the SDK, so the doctor can look at each handshake step (Welcome before Auth, the
/// certificate before trusting it) and report exactly where a connection fails.
/// </summary>
internal sealed class FrameConnection(Stream stream)
{
    private readonly ArrayBufferWriter<byte> _buffer = new();
    private readonly byte[] _chunk = new byte[16 * 1024];

    public async Task SendAsync<T>(uint requestId, T message, CancellationToken cancellationToken)
        where T : IMessage
    {
        await stream.WriteAsync(FrameWriter.ToArray(requestId, message), cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The next frame's message; throws <see cref="EndOfStreamException"/> when the peer closes first.</summary>
    public async Task<IMessage> ReceiveAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (TryTake(out var message))
            {
                return message;
            }

            int read = await stream.ReadAsync(_chunk, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new EndOfStreamException("the broker closed the connection");
            }

            _buffer.Write(_chunk.AsSpan(0, read));
        }
    }

    private bool TryTake(out IMessage message)
    {
        message = null!;
        var sequence = new ReadOnlySequence<byte>(_buffer.WrittenMemory);
        var reader = new SequenceReader<byte>(sequence);
        var status = FrameReader.TryRead(ref reader, ProtocolLimits.Default.MaxFrameLength, out var frame, out var error);
        if (status == FrameStatus.NeedMoreData)
        {
            return false;
        }

        if (status != FrameStatus.Complete)
        {
            throw new InvalidDataException($"not a Wren frame ({error})");
        }

        var decoded = MessageCodec.TryDecode(frame, ProtocolLimits.Default, out var decodedMessage);
        if (!decoded.IsSuccess)
        {
            throw new InvalidDataException($"undecodable {frame.Header.MessageType} ({decoded.Error})");
        }

        byte[] rest = _buffer.WrittenSpan[(int)reader.Consumed..].ToArray();
        _buffer.Clear();
        _buffer.Write(rest);
        message = decodedMessage!;
        return true;
    }
}
