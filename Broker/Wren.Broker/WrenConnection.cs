using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Wren.Broker.Core;
using Wren.Protocol;

namespace Wren.Broker;

/// <summary>
/// One client connection: the canonical read loop (ReadAsync → parse while complete → AdvanceTo) feeding the session,
/// and an outbound queue drained by one writer at a time that coalesces everything queued into few writes to the (TLS)
/// stream. The writer is not a thread of its own: <see cref="TrySend"/> starts it on the thread pool when none is
/// active, and <see cref="Flush"/> (after <see cref="TryQueue"/>, used by the routing loops for a burst of fan-out)
/// runs it on the calling thread, with no hop or wake-up, as long as the socket takes the bytes at once; a write the
/// socket cannot take yet continues on the thread pool. An idle connection holds no buffer: the reader waits with a
/// zero-byte read and the writer returns its buffer to the pool whenever its queue is empty.
/// </summary>
internal sealed class WrenConnection : IFrameSink, IThreadPoolWorkItem
{
    /// <summary>Bytes written to the stream before the pending count is updated and the queue is looked at again.</summary>
    private const int MaxBytesPerFlush = 128 * 1024;

    /// <summary>Size of the writer's coalescing buffer: one full TLS record.</summary>
    private const int WriteBufferSize = 16 * 1024;

    /// <summary>
    /// A write or read at least this large grows OpenSSL's memory BIOs past what an idle connection keeps; the next
    /// keep-alive sweep gives the larger buffers back (<see cref="ShrinkTlsBuffersAfterLargeTraffic"/>).
    /// </summary>
    private const int LargeTlsBytes = 4096;

    private static readonly StreamPipeReaderOptions ReaderOptions = new(
        pool: MemoryPool<byte>.Shared, bufferSize: 4096, minimumReadSize: 1024, leaveOpen: true, useZeroByteReads: true);

    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly PipeReader _input;
    private readonly BrokerCore _core;
    private readonly ILogger _logger;
    private readonly int _maxFrameLength;
    private readonly FrameQueue _outbound = new();
    private readonly TaskCompletionSource _writeLoopDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _pendingBytes;
    private int _closing;

    /// <summary>1 after a large write or read, until the TLS stream's BIO buffers were given back.</summary>
    private int _largeTlsTraffic;

    /// <summary>1 while a writer drains the queue (or for good once the writer has finished); 0 when none does.</summary>
    private int _writer;

    /// <summary>1 once nothing more is queued (closing, or the read side ended): the writer finishes when the queue is empty.</summary>
    private int _completed;

    /// <summary>1 once the writer has finished: frames queued later are dropped at once.</summary>
    private int _writerDone;

    /// <summary>
    /// The frame <see cref="Close"/> ends the connection with (an Error or GoAway), written by the writer after the last
    /// queued frame and never followed by one: a frame that a racing sender queues after the close is dropped.
    /// </summary>
    private StrongBox<ReadOnlyMemory<byte>>? _finalFrame;
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
    /// <param name="logger">For connections closed by the broker (slow consumers).</param>
    public WrenConnection(Socket socket, Stream stream, long acceptedMs, BrokerCore core, int maxFrameLength, ILogger logger)
    {
        _logger = logger;
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
        if (!TryEnqueue(frame))
        {
            return false;
        }

        if (Interlocked.CompareExchange(ref _writer, 1, 0) == 0)
        {
            // The writes run on the thread pool, so that frames queued meanwhile go out in the same write.
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }

        return true;
    }

    public bool TryQueue(ReadOnlyMemory<byte> frame) => TryEnqueue(frame);

    public void Flush() => StartWriter();

    void IThreadPoolWorkItem.Execute() => _ = DrainAsync();

    private bool TryEnqueue(ReadOnlyMemory<byte> frame)
    {
        if (IsClosing)
        {
            return false;
        }

        long pending = Interlocked.Add(ref _pendingBytes, frame.Length);
        if (pending > _core.Limits.MaxPendingOutboundBytes)
        {
            if (!IsClosing)
            {
                HostLog.SlowConsumer(_logger, RemoteAddress, Session.SessionId, pending, _core.Limits.MaxPendingOutboundBytes);
            }

            Close(FrameWriter.ToArray(0, new Protocol.Messages.Error { Code = ErrorCode.SlowConsumer, Message = "outbound queue limit exceeded" }));
            return false;
        }

        _outbound.Enqueue(frame);
        if (Volatile.Read(ref _writerDone) != 0)
        {
            // The writer finished between the closing check and the enqueue: nobody writes this frame any more.
            DropQueued();
        }

        return true;
    }

    public void Close(ReadOnlyMemory<byte> finalFrame)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0)
        {
            return;
        }

        Volatile.Write(ref _finalFrame, new StrongBox<ReadOnlyMemory<byte>>(finalFrame));
        Complete();
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
            Complete();
        }

        await _writeLoopDone.Task.ConfigureAwait(false);
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

            if (result.Buffer.Length >= LargeTlsBytes)
            {
                Volatile.Write(ref _largeTlsTraffic, 1);
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

    /// <summary>Capacity of the TLS stream's idle read and write BIO buffers (-1 when unknown or not TLS), for tests.</summary>
    internal (long Read, long Write) TlsBioCapacity =>
        _stream is System.Net.Security.SslStream tls ? OpenSslBuffers.IdleBioCapacity(tls) : (-1, -1);

    /// <summary>
    /// After large records went either way, gives the TLS stream's grown BIO buffers back (see
    /// <see cref="OpenSslBuffers.TryShrinkIdleBios"/>). Called by the keep-alive sweep, so a connection pays for it at
    /// most once a sweep, never on its hot path; safe while the connection reads and writes.
    /// </summary>
    internal void ShrinkTlsBuffersAfterLargeTraffic()
    {
        if (Volatile.Read(ref _largeTlsTraffic) != 0 && _stream is System.Net.Security.SslStream tls)
        {
            Volatile.Write(ref _largeTlsTraffic, 0);
            OpenSslBuffers.TryShrinkIdleBios(tls, keepBytes: LargeTlsBytes);
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

    /// <summary>No more frames: the writer writes what is queued and finishes.</summary>
    private void Complete()
    {
        Volatile.Write(ref _completed, 1);
        StartWriter();
    }

    /// <summary>Drains the queue on this thread unless a writer is already active (it then writes the new frames too).</summary>
    private void StartWriter()
    {
        if (Interlocked.CompareExchange(ref _writer, 1, 0) == 0)
        {
            // Runs synchronously until a write has to wait for the socket; the rest continues on the thread pool.
            // Failures are handled inside, so the task needs no observer.
            _ = DrainAsync();
        }
    }

    /// <summary>
    /// The writer: coalesces queued frames into a pooled buffer and writes it to the stream until the queue is empty,
    /// then stands down (or finishes, once completed). Only one runs at a time (<see cref="_writer"/>).
    /// </summary>
    private async Task DrainAsync()
    {
        byte[]? buffer = null;
        bool finished = true;
        try
        {
            while (true)
            {
                while (!_outbound.IsEmpty)
                {
                    buffer ??= ArrayPool<byte>.Shared.Rent(WriteBufferSize);
                    long written = 0;
                    int used = 0;
                    while (written < MaxBytesPerFlush && _outbound.TryDequeue(out var frame))
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

                    if (written >= LargeTlsBytes)
                    {
                        Volatile.Write(ref _largeTlsTraffic, 1);
                    }

                    // Frames count against the outbound limit until the stream has taken them, so a peer that stops
                    // reading holds at most the limit plus one flush, not the limit plus everything copied.
                    Interlocked.Add(ref _pendingBytes, -written);
                    Interlocked.Exchange(ref _drained, null)?.TrySetResult();
                }

                // Nothing queued: an idle connection keeps no write buffer.
                if (buffer is not null)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = null;
                }

                if (Volatile.Read(ref _completed) != 0 && _outbound.IsEmpty)
                {
                    // Written last: whatever is queued from here on is dropped when the writer finishes.
                    if (Interlocked.Exchange(ref _finalFrame, null) is { } finalFrame)
                    {
                        await _stream.WriteAsync(finalFrame.Value).ConfigureAwait(false);
                    }

                    break;
                }

                // Stand down, then look again: a frame queued after the queue looked empty found this writer active
                // and left it to this writer. The exchange is a full fence, as is the enqueuer's compare-exchange, so
                // one of the two sees the other.
                Interlocked.Exchange(ref _writer, 0);
                if ((_outbound.IsEmpty && Volatile.Read(ref _completed) == 0) || Interlocked.CompareExchange(ref _writer, 1, 0) != 0)
                {
                    finished = false;
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException or NotSupportedException)
        {
            // The peer went away while frames were queued; the device resumes from its cursor.
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            if (finished)
            {
                // Finished for good: _writer stays 1, so no other writer starts. Frames still queued are never
                // written; their shared frames go back to the pool. The exchange is a full fence: a TrySend that
                // enqueued before it reads _writerDone as 1 and drops its frame itself, or its frame is dropped here.
                Interlocked.Exchange(ref _writerDone, 1);
                Interlocked.Exchange(ref _closing, 1);
                DropQueued();
                Interlocked.Exchange(ref _drained, null)?.TrySetResult();
                _input.CancelPendingRead();
                _writeLoopDone.TrySetResult();
            }
        }
    }

    /// <summary>Releases every queued frame without writing it (the writer has finished).</summary>
    private void DropQueued()
    {
        while (_outbound.TryDequeue(out var dropped))
        {
            Release(dropped);
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
