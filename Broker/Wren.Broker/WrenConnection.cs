using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Wren.Broker.Core;
using Wren.Protocol;

namespace Wren.Broker;

/// <summary>
/// One client connection: the canonical read loop (ReadAsync → parse while complete → AdvanceTo) feeding the session,
/// and an outbound queue drained by one writer loop that coalesces everything queued into few writes to the (TLS)
/// stream. An idle connection holds no buffer: the reader waits with a zero-byte read and the writer returns its
/// buffer to the pool whenever its queue is empty.
/// </summary>
internal sealed class WrenConnection : IFrameSink
{
    /// <summary>Bytes written to the stream before the pending count is updated and the queue is looked at again.</summary>
    private const int MaxBytesPerFlush = 128 * 1024;

    /// <summary>Size of the writer's coalescing buffer: one full TLS record.</summary>
    private const int WriteBufferSize = 16 * 1024;

    private static readonly StreamPipeReaderOptions ReaderOptions = new(
        pool: MemoryPool<byte>.Shared, bufferSize: 4096, minimumReadSize: 1024, leaveOpen: true, useZeroByteReads: true);

    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly PipeReader _input;
    private readonly BrokerCore _core;
    private readonly int _maxFrameLength;
    private readonly Channel<ReadOnlyMemory<byte>> _outbound =
        Channel.CreateUnbounded<ReadOnlyMemory<byte>>(new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });
    private readonly TaskCompletionSource _writeLoopDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _pendingBytes;
    private int _closing;
    private TaskCompletionSource? _drained;

    /// <summary>
    /// How long a closing connection may take to write its queued frames and final frame before it is aborted. A peer
    /// that reads nothing (a slow consumer that stopped) would otherwise hold the connection, its queue and its socket
    /// buffers for as long as it stays connected.
    /// </summary>
    private static readonly TimeSpan FinalFlushTimeout = TimeSpan.FromSeconds(5);

    /// <param name="socket">The accepted socket (aborting the connection disposes it).</param>
    /// <param name="stream">The stream over it: TLS, or the plain network stream when TLS is off.</param>
    /// <param name="acceptedMs">When TCP accepted the connection (Environment.TickCount64).</param>
    /// <param name="core">The routing core.</param>
    /// <param name="maxFrameLength">Largest accepted frame length.</param>
    public WrenConnection(Socket socket, Stream stream, long acceptedMs, BrokerCore core, int maxFrameLength)
    {
        _socket = socket;
        _stream = stream;
        _input = PipeReader.Create(stream, ReaderOptions);
        _core = core;
        _maxFrameLength = maxFrameLength;
        var remote = socket.RemoteEndPoint as IPEndPoint;
        RemoteIp = remote?.Address ?? IPAddress.None;
        RemoteAddress = remote?.ToString() ?? "unknown";
        IsLoopback = remote is not null && IPAddress.IsLoopback(remote.Address);
        Session = core.CreateSession(this);
        StartedMs = Environment.TickCount64;
        AcceptedMs = acceptedMs;
        LastReceivedMs = StartedMs;
        LastPingMs = StartedMs;
    }

    public Session Session { get; }

    /// <summary>When TCP accepted the connection: the handshake timeout counts from here, TLS included.</summary>
    public long AcceptedMs { get; }

    public IPAddress RemoteIp { get; }

    public string RemoteAddress { get; }

    public bool IsLoopback { get; }

    public long StartedMs { get; }

    public long LastReceivedMs { get; private set; }

    public long LastPingMs { get; set; }

    public bool IsClosing => Volatile.Read(ref _closing) != 0;

    public long PendingBytes => Interlocked.Read(ref _pendingBytes);

    public async Task WaitUntilPendingAtMostAsync(long bytes)
    {
        while (!IsClosing && PendingBytes > bytes)
        {
            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var previous = Interlocked.Exchange(ref _drained, waiter);
            previous?.TrySetResult();
            if (IsClosing || PendingBytes <= bytes)
            {
                return;
            }

            await waiter.Task.ConfigureAwait(false);
        }
    }

    public bool TrySend(ReadOnlyMemory<byte> frame)
    {
        if (IsClosing)
        {
            return false;
        }

        if (Interlocked.Add(ref _pendingBytes, frame.Length) > _core.Limits.MaxPendingOutboundBytes)
        {
            Close(FrameWriter.ToArray(0, new Protocol.Messages.Error { Code = ErrorCode.SlowConsumer, Message = "outbound queue limit exceeded" }));
            return false;
        }

        return _outbound.Writer.TryWrite(frame);
    }

    public void Close(ReadOnlyMemory<byte> finalFrame)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0)
        {
            return;
        }

        _outbound.Writer.TryWrite(finalFrame);
        _outbound.Writer.TryComplete();
        _input.CancelPendingRead();
        _ = AbortUnlessFlushedAsync();
    }

    /// <summary>Aborts the transport when the writer has not delivered everything within <see cref="FinalFlushTimeout"/> of the close.</summary>
    private async Task AbortUnlessFlushedAsync()
    {
        try
        {
            await _writeLoopDone.Task.WaitAsync(FinalFlushTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The peer did not read the connection's final frames: the writer's pending write fails and the loops end.
            _socket.Dispose();
        }
    }

    /// <summary>Runs both loops until the connection ends.</summary>
    public async Task RunAsync()
    {
        var writer = WriteLoopAsync();
        try
        {
            await ReadLoopAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The peer went away; nothing to report to it.
        }
        finally
        {
            Session.OnClosed();
            _outbound.Writer.TryComplete();
        }

        await writer.ConfigureAwait(false);
        await _input.CompleteAsync().ConfigureAwait(false);
    }

    private async Task ReadLoopAsync()
    {
        var input = _input;
        while (!IsClosing)
        {
            var result = await input.ReadAsync().ConfigureAwait(false);
            if (result.IsCanceled)
            {
                break;
            }

            var buffer = result.Buffer;
            var outcome = Parse(ref buffer, out var pending);
            // Everything before buffer.Start is consumed; when a handler is pending the rest is not examined yet.
            input.AdvanceTo(buffer.Start, outcome == ParseOutcome.NeedMoreData ? result.Buffer.End : buffer.Start);
            if (outcome == ParseOutcome.Close)
            {
                break;
            }

            if (outcome == ParseOutcome.Pending && !await pending.ConfigureAwait(false))
            {
                break;
            }

            if (result.IsCompleted && outcome == ParseOutcome.NeedMoreData)
            {
                break;
            }
        }
    }

    private ParseOutcome Parse(ref ReadOnlySequence<byte> buffer, out ValueTask<bool> pending)
    {
        pending = default;
        var reader = new SequenceReader<byte>(buffer);
        while (true)
        {
            var status = FrameReader.TryRead(ref reader, _maxFrameLength, out var frame, out var error);
            if (status == FrameStatus.NeedMoreData)
            {
                buffer = buffer.Slice(reader.Position);
                return ParseOutcome.NeedMoreData;
            }

            if (status == FrameStatus.Invalid)
            {
                Session.Fail(error, error.ToString());
                return ParseOutcome.Close;
            }

            LastReceivedMs = Environment.TickCount64;
            var handled = Session.HandleAsync(frame);
            if (!handled.IsCompletedSuccessfully)
            {
                buffer = buffer.Slice(reader.Position);
                pending = handled;
                return ParseOutcome.Pending;
            }

            if (!handled.Result)
            {
                return ParseOutcome.Close;
            }
        }
    }

    private async Task WriteLoopAsync()
    {
        var reader = _outbound.Reader;
        byte[]? buffer = null;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                buffer ??= ArrayPool<byte>.Shared.Rent(WriteBufferSize);
                long written = 0;
                int used = 0;
                while (written < MaxBytesPerFlush && reader.TryRead(out var frame))
                {
                    if (frame.Length > buffer.Length - used)
                    {
                        if (used > 0)
                        {
                            await _stream.WriteAsync(buffer.AsMemory(0, used)).ConfigureAwait(false);
                            used = 0;
                        }

                        if (frame.Length > buffer.Length)
                        {
                            // Larger than the buffer: written as it is (the TLS stream splits it into records).
                            try
                            {
                                await _stream.WriteAsync(frame).ConfigureAwait(false);
                            }
                            finally
                            {
                                Release(frame);
                            }

                            written += frame.Length;
                            continue;
                        }
                    }

                    frame.Span.CopyTo(buffer.AsSpan(used));
                    Release(frame);
                    used += frame.Length;
                    written += frame.Length;
                }

                if (used > 0)
                {
                    await _stream.WriteAsync(buffer.AsMemory(0, used)).ConfigureAwait(false);
                }

                // Frames count against the outbound limit until the stream has taken them, so a peer that stops
                // reading holds at most the limit plus one flush, not the limit plus everything copied.
                Interlocked.Add(ref _pendingBytes, -written);
                Interlocked.Exchange(ref _drained, null)?.TrySetResult();
                if (!reader.TryPeek(out _))
                {
                    // Nothing queued: an idle connection keeps no write buffer.
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = null;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // The peer went away while frames were queued; the device resumes from its cursor.
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            // Frames still queued are never written: their shared frames go back to the pool.
            _outbound.Writer.TryComplete();
            while (reader.TryRead(out var dropped))
            {
                Release(dropped);
            }

            Interlocked.Exchange(ref _closing, 1);
            Interlocked.Exchange(ref _drained, null)?.TrySetResult();
            _input.CancelPendingRead();
            _writeLoopDone.TrySetResult();
        }
    }

    /// <summary>Gives a pooled frame back once this connection has written or dropped it (see <see cref="IFrameSink.TrySend"/>).</summary>
    private static void Release(ReadOnlyMemory<byte> frame)
    {
        if (MemoryMarshal.TryGetMemoryManager(frame, out SharedFrame? shared))
        {
            shared.Release();
        }
    }

    private enum ParseOutcome
    {
        NeedMoreData,
        Pending,
        Close,
    }
}
