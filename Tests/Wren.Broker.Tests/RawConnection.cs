using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Threading.Channels;
using Wren.Protocol;
using Wren.Protocol.Messages;

namespace Wren.Broker.Tests;

/// <summary>One frame as the broker sent it: the header and the decoded message (null when it did not decode).</summary>
public sealed record ReceivedFrame(FrameHeader Header, IMessage? Message, DecodeResult Decoded)
{
    public override string ToString() => Message switch
    {
        Error error => $"Error {error.Code} ({error.Message}) request {Header.RequestId}",
        GoAway goAway => $"GoAway {goAway.Code} ({goAway.Message}) request {Header.RequestId}",
        null => $"undecodable {Header.MessageType} ({Decoded.Error}) request {Header.RequestId}",
        _ => $"{Header.MessageType} request {Header.RequestId}",
    };
}

/// <summary>
/// A client that speaks bytes, not the SDK: TCP to the test broker, TLS with the broker's certificate pinned by its
/// SHA-256 fingerprint (or no TLS at all), raw writes, and a background reader that splits what the broker sends into
/// frames and notices when the broker closes the connection.
/// </summary>
/// <remarks>
/// The reader runs from the start, so frames the broker sends just before it closes are buffered here even when the
/// test is still writing. Waits are bounded: every read takes a timeout.
/// </remarks>
public sealed class RawConnection : IAsyncDisposable
{
    /// <summary>How long a read waits for a frame, or a close, unless told otherwise.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private readonly TcpClient _tcp;
    private readonly Stream _stream;
    private readonly Channel<ReceivedFrame> _frames = Channel.CreateUnbounded<ReceivedFrame>();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _disposing = new();
    private readonly Task _pump;
    private uint _nextRequestId;

    private RawConnection(TcpClient tcp, Stream stream)
    {
        _tcp = tcp;
        _stream = stream;
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>Why the reader stopped: "end of stream", an exception type, or null while the connection is open.</summary>
    public string? CloseReason { get; private set; }

    /// <summary>True once the broker closed (or reset) the connection and every frame before it was read.</summary>
    public bool IsClosed => _frames.Reader.Completion.IsCompleted;

    /// <summary>Completes when the reader has seen the end of the stream.</summary>
    public Task Closed => _pump;

    /// <summary>The Welcome of <see cref="HelloAsync"/>, once it arrived.</summary>
    public Welcome? Welcome { get; private set; }

    /// <summary>Connects with TLS, pinning the broker's certificate.</summary>
    public static Task<RawConnection> ConnectAsync(TestBroker broker) => ConnectAsync(broker, tls: true);

    /// <summary>Connects to the broker; with <paramref name="tls"/> false the TCP stream is used as is (no TLS handshake).</summary>
    /// <param name="broker">The broker.</param>
    /// <param name="tls">Whether to run the TLS handshake.</param>
    /// <param name="delayBeforeTls">How long the client waits between the TCP connect and its TLS ClientHello (a slow client).</param>
    public static async Task<RawConnection> ConnectAsync(TestBroker broker, bool tls, TimeSpan delayBeforeTls = default)
    {
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            using var timeout = new CancellationTokenSource(DefaultTimeout + delayBeforeTls);
            await tcp.ConnectAsync("127.0.0.1", broker.Port, timeout.Token);
            Stream stream = tcp.GetStream();
            if (tls)
            {
                if (delayBeforeTls > TimeSpan.Zero)
                {
                    // The stimulus, not a wait for a condition: the client is slow to start TLS.
                    await Task.Delay(delayBeforeTls, timeout.Token);
                }

                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                string pinned = broker.Server.Fingerprint!.Replace(":", "", StringComparison.Ordinal);
                await ssl.AuthenticateAsClientAsync(
                    new SslClientAuthenticationOptions
                    {
                        TargetHost = "localhost",
                        RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                            certificate is not null
                            && string.Equals(Convert.ToHexString(SHA256.HashData(certificate.GetRawCertData())), pinned, StringComparison.OrdinalIgnoreCase),
                    },
                    timeout.Token);
                stream = ssl;
            }

            return new RawConnection(tcp, stream);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>Connects with TLS, then completes Hello and Auth with <paramref name="token"/>.</summary>
    public static async Task<RawConnection> ConnectAuthenticatedAsync(TestBroker broker, string token)
    {
        var connection = await ConnectAsync(broker);
        try
        {
            await connection.HelloAsync();
            await connection.AuthAsync(token);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Ends the connection with a TCP reset (linger 0), as a killed app or a lost network path does.</summary>
    public async Task ResetAsync()
    {
        _tcp.Client.LingerState = new LingerOption(true, 0);
        _tcp.Client.Close();
        await DisposeAsync();
    }

    /// <summary>The next request id (never 0).</summary>
    public uint NextRequestId() => Interlocked.Increment(ref _nextRequestId);

    /// <summary>Builds a frame from parts, with any length field, flags and body the test wants.</summary>
    public static byte[] Frame(byte type, uint requestId, ReadOnlySpan<byte> body, byte flags = 0, uint? length = null)
    {
        var frame = new byte[FrameHeader.Size + body.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, length ?? (uint)(FrameHeader.MinLength + body.Length));
        frame[4] = type;
        frame[5] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(6), requestId);
        body.CopyTo(frame.AsSpan(FrameHeader.Size));
        return frame;
    }

    /// <summary>The MessagePack body the codec writes for <paramref name="message"/>.</summary>
    public static byte[] Body<T>(T message)
        where T : IMessage => FrameWriter.ToArray(0, message)[FrameHeader.Size..];

    /// <summary>Writes bytes as they are.</summary>
    public async Task SendAsync(ReadOnlyMemory<byte> bytes)
    {
        await _writeLock.WaitAsync();
        try
        {
            using var timeout = new CancellationTokenSource(DefaultTimeout);
            await _stream.WriteAsync(bytes, timeout.Token);
            await _stream.FlushAsync(timeout.Token);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Writes one frame carrying <paramref name="message"/>, encoded by the protocol library.</summary>
    public Task SendAsync<T>(uint requestId, T message)
        where T : IMessage => SendAsync(FrameWriter.ToArray(requestId, message));

    /// <summary>Sends Ping with a fresh request id and expects the Pong with that id as the next frame.</summary>
    public async Task PingAsync()
    {
        uint id = NextRequestId();
        await SendAsync(id, EmptyMessage.Ping);
        var pong = await ReadAnswerAsync();
        Assert.True(pong.Header.MessageType == MessageType.Pong && pong.Header.RequestId == id, $"expected Pong {id}, got {pong}");
    }

    /// <summary>Sends Hello and expects Welcome.</summary>
    public async Task<Welcome> HelloAsync(ushort minVersion = ProtocolLimits.MinVersion, ushort maxVersion = ProtocolLimits.MaxVersion)
    {
        uint id = NextRequestId();
        await SendAsync(id, new Hello { MinVersion = minVersion, MaxVersion = maxVersion, ClientName = "raw", ClientVersion = "1" });
        Welcome = await ExpectAsync<Welcome>(id);
        return Welcome;
    }

    /// <summary>Sends Auth with a device token and expects AuthOk.</summary>
    public async Task<AuthOk> AuthAsync(string token)
    {
        uint id = NextRequestId();
        await SendAsync(id, new Auth { Method = AuthMethod.Token, Token = token });
        return await ExpectAsync<AuthOk>(id);
    }

    /// <summary>Reads the next frame; fails when the connection closes first or nothing arrives in time.</summary>
    public async Task<ReceivedFrame> ReadFrameAsync(TimeSpan? timeout = null) =>
        await TryReadFrameAsync(timeout) ?? throw new IOException($"the broker closed the connection ({CloseReason}) instead of sending a frame");

    /// <summary>Reads the next frame; null when the connection closed. Throws <see cref="TimeoutException"/> when neither happens in time.</summary>
    public async Task<ReceivedFrame?> TryReadFrameAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        try
        {
            return await _frames.Reader.WaitToReadAsync(cts.Token) && _frames.Reader.TryRead(out var frame) ? frame : null;
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new TimeoutException($"no frame and no close within {(timeout ?? DefaultTimeout).TotalSeconds} s");
        }
    }

    /// <summary>
    /// Reads the next frame that is not a push (Deliver, Presence, ReadReceipt, Typing or a keep-alive Ping with request
    /// id 0), whose order relative to answers the protocol leaves open.
    /// </summary>
    public async Task<ReceivedFrame> ReadAnswerAsync(TimeSpan? timeout = null)
    {
        while (true)
        {
            var frame = await ReadFrameAsync(timeout);
            if (frame.Header.RequestId != 0
                || frame.Header.MessageType is not (MessageType.Deliver or MessageType.Presence or MessageType.ReadReceipt or MessageType.Typing or MessageType.Ping))
            {
                return frame;
            }
        }
    }

    /// <summary>Reads the next answer and checks it is a <typeparamref name="T"/> answering <paramref name="requestId"/>.</summary>
    public async Task<T> ExpectAsync<T>(uint requestId, TimeSpan? timeout = null)
        where T : IMessage
    {
        var frame = await ReadAnswerAsync(timeout);
        if (frame.Message is not T typed)
        {
            throw new Xunit.Sdk.XunitException($"expected {typeof(T).Name} for request {requestId}, got {frame}");
        }

        Assert.Equal(requestId, frame.Header.RequestId);
        return typed;
    }

    /// <summary>Reads the next answer and checks it is an Error with <paramref name="code"/> (and, when given, the request id).</summary>
    public async Task<Error> ExpectErrorAsync(ErrorCode code, uint? requestId = null, TimeSpan? timeout = null)
    {
        var frame = await ReadAnswerAsync(timeout);
        if (frame.Message is not Error error)
        {
            throw new Xunit.Sdk.XunitException($"expected Error {code}, got {frame}");
        }

        Assert.True(error.Code == code, $"expected Error {code}, got {frame}");
        if (requestId is { } id)
        {
            Assert.True(frame.Header.RequestId == id, $"expected the Error to carry request id {id}, got {frame}");
        }

        return error;
    }

    /// <summary>Expects the broker to close the connection, with no frame before the close.</summary>
    public async Task ExpectClosedAsync(TimeSpan? timeout = null)
    {
        var frame = await TryReadFrameAsync(timeout);
        Assert.True(frame is null, $"expected the broker to close the connection, got {frame}");
    }

    /// <summary>Expects an Error with <paramref name="code"/>, then the close (the documented behaviour of codes 100–199).</summary>
    public async Task<Error> ExpectErrorThenCloseAsync(ErrorCode code, uint? requestId = null, TimeSpan? timeout = null)
    {
        var error = await ExpectErrorAsync(code, requestId, timeout);
        await ExpectClosedAsync(timeout);
        return error;
    }

    public async ValueTask DisposeAsync()
    {
        await _disposing.CancelAsync();
        await _stream.DisposeAsync();
        _tcp.Dispose();
        await _pump;
        _disposing.Dispose();
        _writeLock.Dispose();
    }

    private async Task PumpAsync()
    {
        var reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(leaveOpen: true));
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(_disposing.Token);
                var buffer = result.Buffer;
                Split(ref buffer);
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    CloseReason = buffer.IsEmpty ? "end of stream" : $"end of stream inside a frame ({buffer.Length} bytes left)";
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            CloseReason = ex.GetType().Name;
        }
        finally
        {
            await reader.CompleteAsync();
            _frames.Writer.TryComplete();
        }
    }

    private void Split(ref ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        FrameStatus status;
        while ((status = FrameReader.TryRead(ref reader, int.MaxValue, out var frame, out _)) == FrameStatus.Complete)
        {
            var decoded = MessageCodec.TryDecode(frame, ProtocolLimits.Default, out var message);
            _frames.Writer.TryWrite(new ReceivedFrame(frame.Header, message, decoded));
        }

        buffer = buffer.Slice(reader.Position);
        if (status == FrameStatus.Invalid)
        {
            // The broker sent bytes that are not a frame; stop reading so the test sees a close, not a hang.
            throw new IOException("the broker sent an invalid frame header");
        }
    }
}
