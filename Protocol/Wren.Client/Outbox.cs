using System.Buffers;
using Wren.Protocol;

namespace Wren.Client;

/// <summary>
/// The frames one connection has still to write, and the single writer that writes them. Callers append encoded
/// frames under a lock and return; the writer, started on the thread pool when the outbox turns non-empty, takes
/// everything appended so far and writes it as one TLS write. Frames that arrive while a write is in flight go out
/// together in the next one, so a burst of sends costs one TLS record and one send call instead of one per frame
/// (the same shape as the broker's connection writer and NATS.Net's command writer).
/// </summary>
/// <remarks>
/// Every frame's task completes when the write that carried it completes, and fails with that write's exception
/// (IOException, ObjectDisposedException; an InvalidOperationException from a stream closed mid-write becomes an
/// IOException) when it fails; after a failure the outbox refuses new frames with the same exception, since the
/// connection is gone and the next one gets an outbox of its own.
/// </remarks>
internal sealed class Outbox(Stream stream) : IThreadPoolWorkItem
{
    /// <summary>A buffer that grew past this (one very large frame) is dropped after its write instead of kept.</summary>
    private const int RetainLimit = 1 << 20;

    private readonly Lock _lock = new();
    private ArrayBufferWriter<byte> _pending = new(4096);
    private ArrayBufferWriter<byte> _writing = new(4096);
    private TaskCompletionSource? _batch;
    private Exception? _failure;
    private bool _writerActive;

    /// <summary>Appends one frame; the task completes when the write carrying it completes (or fails with why it could not).</summary>
    public Task Enqueue<T>(uint requestId, T message)
        where T : IMessage
    {
        Task written;
        lock (_lock)
        {
            if (_failure is { } failure)
            {
                return Task.FromException(failure);
            }

            // FrameWriter encodes the body to a scratch buffer before it touches _pending: a message that fails to
            // encode leaves no partial frame behind, and its caller gets the failure as its task's.
            try
            {
                FrameWriter.Write(_pending, requestId, message);
            }
#pragma warning disable CA1031 // Handed to the caller through the returned task, like a failed write.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                return Task.FromException(ex);
            }

            _batch ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            written = _batch.Task;
            if (_writerActive)
            {
                return written;
            }

            _writerActive = true;
        }

        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        return written;
    }

    void IThreadPoolWorkItem.Execute() => _ = DrainAsync();

    private async Task DrainAsync()
    {
        while (true)
        {
            TaskCompletionSource batch;
            lock (_lock)
            {
                if (_pending.WrittenCount == 0)
                {
                    _writerActive = false;
                    return;
                }

                (_pending, _writing) = (_writing, _pending);
                batch = _batch!;
                _batch = null;
            }

            try
            {
                await stream.WriteAsync(_writing.WrittenMemory).ConfigureAwait(false);
                await stream.FlushAsync().ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Whatever the write failed with is handed to every frame it carried and every later one.
            catch (Exception caught)
#pragma warning restore CA1031
            {
                // A stream closed while this write runs on another thread (a lost connection, SimulateDisconnect, a
                // dispose) can fail with InvalidOperationException ("only allowed using a successfully authenticated
                // context") instead of ObjectDisposedException: it is the same lost connection, so callers get an
                // IOException, which every send and request path treats as one.
                var ex = caught is InvalidOperationException ? new IOException("the connection closed during a write", caught) : caught;
                TaskCompletionSource? next;
                lock (_lock)
                {
                    _failure = ex;
                    next = _batch;
                    _batch = null;
                    _pending.ResetWrittenCount();
                    _writerActive = false;
                }

                batch.TrySetException(ex);
                next?.TrySetException(ex);
                return;
            }

            if (_writing.Capacity > RetainLimit)
            {
                _writing = new ArrayBufferWriter<byte>(4096);
            }
            else
            {
                _writing.ResetWrittenCount();
            }

            batch.TrySetResult();
        }
    }
}
