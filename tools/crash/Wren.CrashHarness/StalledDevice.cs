using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using Wren.Protocol;
using Wren.Protocol.Messages;

namespace Wren.CrashHarness;

/// <summary>
/// A device that stops reading: raw TCP and TLS (no SDK), Hello, Auth, SyncAll, reads until SyncDone (so the broker
/// pushes it live messages), then reads nothing more. Its receive buffer is small, so the broker's queue for it grows
/// at once. At the end <see cref="DrainAsync"/> reads what the broker sent, up to the close.
/// </summary>
internal sealed class StalledDevice : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly SslStream _stream;
    private readonly PipeReader _reader;
    private readonly int _localPort;
    private readonly int _remotePort;
    private uint _requestId;

    private StalledDevice(TcpClient tcp, SslStream stream)
    {
        _tcp = tcp;
        _stream = stream;
        // Kept now: once the broker resets the connection the socket no longer reports its remote end.
        _localPort = ((System.Net.IPEndPoint)tcp.Client.LocalEndPoint!).Port;
        _remotePort = ((System.Net.IPEndPoint)tcp.Client.RemoteEndPoint!).Port;
        _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
    }

    /// <summary>Deliver frames read (during the drain).</summary>
    public int Delivered { get; private set; }

    /// <summary>The connection-level error the broker sent last (SlowConsumer when it cut the device off), or null.</summary>
    public ErrorCode? Error { get; private set; }

    /// <summary>True when the drain reached the end of the stream (the broker closed the connection).</summary>
    public bool Closed { get; private set; }

    /// <summary>How the drain ended: "end of stream", an exception, or "still open".</summary>
    public string Ending { get; private set; } = "not drained";

    /// <summary>
    /// The kernel's TCP state of this device's socket (from /proc/net/tcp), read without touching the socket:
    /// "ESTABLISHED" while the broker keeps the connection, "CLOSE_WAIT" or "CLOSE" once the broker closed or reset it,
    /// "gone" when the socket is no longer listed.
    /// </summary>
    public string TcpState()
    {
        var localKey = $":{_localPort:X4} ";
        var remoteKey = $":{_remotePort:X4} ";
        try
        {
            foreach (var line in File.ReadLines("/proc/net/tcp").Concat(File.ReadLines("/proc/net/tcp6")))
            {
                // sl local_address rem_address st ...: match both ports, then read the state column.
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 3 && (fields[1] + " ").EndsWith(localKey, StringComparison.Ordinal) && (fields[2] + " ").EndsWith(remoteKey, StringComparison.Ordinal))
                {
                    return fields[3] switch
                    {
                        "01" => "ESTABLISHED",
                        "08" => "CLOSE_WAIT",
                        "07" => "CLOSE",
                        var other => "state " + other,
                    };
                }
            }
        }
        catch (IOException)
        {
            return "unknown";
        }

        return "gone";
    }

    /// <summary>Connects, authenticates, goes live (SyncAll until SyncDone) and stops reading.</summary>
    public static async Task<StalledDevice> ConnectAsync(int port, string fingerprint, string token, int receiveBufferBytes, CancellationToken cancellationToken)
    {
        var tcp = new TcpClient { NoDelay = true, ReceiveBufferSize = receiveBufferBytes };
        try
        {
            await tcp.ConnectAsync("127.0.0.1", port, cancellationToken).ConfigureAwait(false);
            var pinned = fingerprint.Replace(":", "", StringComparison.Ordinal);
            var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
            await ssl.AuthenticateAsClientAsync(
                new SslClientAuthenticationOptions
                {
                    TargetHost = "localhost",
                    RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                        certificate is not null
                        && string.Equals(Convert.ToHexString(SHA256.HashData(certificate.GetRawCertData())), pinned, StringComparison.OrdinalIgnoreCase),
                },
                cancellationToken).ConfigureAwait(false);
            var device = new StalledDevice(tcp, ssl);
            await device.WriteAsync(new Hello { ClientName = "stalled", ClientVersion = "1" }, cancellationToken).ConfigureAwait(false);
            await device.ReadUntilAsync(MessageType.Welcome, cancellationToken).ConfigureAwait(false);
            await device.WriteAsync(new Auth { Method = AuthMethod.Token, Token = token }, cancellationToken).ConfigureAwait(false);
            await device.ReadUntilAsync(MessageType.AuthOk, cancellationToken).ConfigureAwait(false);
            await device.WriteAsync(new SyncAll(), cancellationToken).ConfigureAwait(false);
            await device.ReadUntilAsync(MessageType.SyncDone, cancellationToken).ConfigureAwait(false);
            return device;
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads everything the broker sent until the end of the stream, or until nothing arrives for <paramref name="idle"/>
    /// (the connection is still open), counting Deliver frames and noting the last Error.
    /// </summary>
    public async Task DrainAsync(TimeSpan idle, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                using var quiet = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                quiet.CancelAfter(idle);
                ReadResult result;
                try
                {
                    result = await _reader.ReadAsync(quiet.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    Ending = "still open";
                    return;
                }

                var buffer = result.Buffer;
                Consume(ref buffer, stopAt: null);
                _reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    Closed = true;
                    Ending = "end of stream";
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            Closed = true;
            Ending = ex.GetType().Name;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _reader.CompleteAsync().ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
        _tcp.Dispose();
    }

    private async Task WriteAsync<T>(T message, CancellationToken cancellationToken)
        where T : IMessage
    {
        await _stream.WriteAsync(FrameWriter.ToArray(++_requestId, message), cancellationToken).ConfigureAwait(false);
        await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task ReadUntilAsync(MessageType type, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var found = Consume(ref buffer, type);
            _reader.AdvanceTo(buffer.Start, found ? buffer.Start : buffer.End);
            if (found)
            {
                return;
            }

            if (result.IsCompleted)
            {
                throw new IOException($"the broker closed the connection before {type} (last error {Error})");
            }
        }
    }

    /// <summary>Reads whole frames; true as soon as a frame of <paramref name="stopAt"/> was consumed.</summary>
    private bool Consume(ref ReadOnlySequence<byte> buffer, MessageType? stopAt)
    {
        var reader = new SequenceReader<byte>(buffer);
        try
        {
            while (FrameReader.TryRead(ref reader, int.MaxValue, out var frame, out _) == FrameStatus.Complete)
            {
                var type = frame.Header.MessageType;
                if (type == MessageType.Deliver)
                {
                    Delivered++;
                }
                else if (type is MessageType.Error or MessageType.GoAway
                    && MessageCodec.TryDecode(frame, ProtocolLimits.Default, out var message).IsSuccess)
                {
                    Error = message switch
                    {
                        Error error => error.Code,
                        GoAway goAway => goAway.Code,
                        _ => Error,
                    };
                }

                if (type == stopAt)
                {
                    return true;
                }
            }

            return false;
        }
        finally
        {
            buffer = buffer.Slice(reader.Position);
        }
    }
}
