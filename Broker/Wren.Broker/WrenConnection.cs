using System.Buffers;
using System.Net;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Wren.Broker.Core;
using Wren.Protocol;

namespace Wren.Broker;

/// <summary>
/// One client connection: the canonical read loop (ReadAsync → parse while complete → AdvanceTo) feeding the session,
/// and an outbound queue drained by one writer loop that coalesces everything queued into one flush.
/// </summary>
internal sealed class WrenConnection : IFrameSink
{
    /// <summary>Bytes copied into the transport before each flush: the flush's backpressure then applies to the rest.</summary>
    private const int MaxBytesPerFlush = 128 * 1024;

    private readonly ConnectionContext _context;
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

    public WrenConnection(ConnectionContext context, BrokerCore core, int maxFrameLength)
    {
        _context = context;
        _core = core;
        _maxFrameLength = maxFrameLength;
        var remote = context.RemoteEndPoint as IPEndPoint;
        RemoteIp = remote?.Address ?? IPAddress.None;
        RemoteAddress = context.RemoteEndPoint?.ToString() ?? "unknown";
        IsLoopback = remote is not null && IPAddress.IsLoopback(remote.Address);
        Session = core.CreateSession(this);
        StartedMs = Environment.TickCount64;
        AcceptedMs = context.Items.TryGetValue(AcceptedKey, out var accepted) && accepted is long at ? at : StartedMs;
        LastReceivedMs = StartedMs;
        LastPingMs = StartedMs;
    }

    /// <summary>Key of the accept time (Environment.TickCount64) stamped on the connection before the TLS handshake.</summary>
    public const string AcceptedKey = "wren.accepted";

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
        _context.Transport.Input.CancelPendingRead();
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
            _context.Abort(new ConnectionAbortedException("the peer did not read the connection's final frames"));
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
        catch (Exception ex) when (ex is IOException or ConnectionResetException or OperationCanceledException or ObjectDisposedException)
        {
            // The peer went away; nothing to report to it.
        }
        finally
        {
            Session.OnClosed();
            _outbound.Writer.TryComplete();
        }

        await writer.ConfigureAwait(false);
    }

    private async Task ReadLoopAsync()
    {
        var input = _context.Transport.Input;
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
        var output = _context.Transport.Output;
        var reader = _outbound.Reader;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                long written = 0;
                while (written < MaxBytesPerFlush && reader.TryRead(out var frame))
                {
                    output.Write(frame.Span);
                    written += frame.Length;
                }

                var flushed = await output.FlushAsync().ConfigureAwait(false);
                // Frames count against the outbound limit until the transport has taken them, so a peer that stops
                // reading holds at most the limit plus one flush, not the limit plus everything copied into the pipe.
                Interlocked.Add(ref _pendingBytes, -written);
                Interlocked.Exchange(ref _drained, null)?.TrySetResult();
                if (flushed.IsCompleted || flushed.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ConnectionResetException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // The peer went away while frames were queued; the device resumes from its cursor.
        }
        finally
        {
            Interlocked.Exchange(ref _closing, 1);
            Interlocked.Exchange(ref _drained, null)?.TrySetResult();
            _context.Transport.Input.CancelPendingRead();
            await output.CompleteAsync().ConfigureAwait(false);
            _writeLoopDone.TrySetResult();
        }
    }

    private enum ParseOutcome
    {
        NeedMoreData,
        Pending,
        Close,
    }
}
