using System.Net.Sockets;
using System.Threading.Tasks.Sources;

namespace Wren.Broker;

/// <summary>
/// The stream a connection's TLS (or plain) stream runs over: one connected socket, read through one reusable
/// <see cref="SocketAsyncEventArgs"/> and written through a <see cref="NetworkStream"/> over the same socket. A peer that
/// resets or aborts the connection ends the stream (a read returns 0), without an exception.
/// </summary>
/// <remarks>
/// <para>
/// Why not <see cref="NetworkStream"/>: its failed receive builds a <see cref="SocketException"/> and formats the stack
/// trace of the await eagerly (<c>ExceptionDispatchInfo.SetCurrentStackTrace</c>). A client that vanishes with a reset
/// (an app killed, a phone changing networks, a connect-and-reset scan) then costs the broker more CPU than its TLS
/// handshake: 45 % of the broker's samples in a reset storm (see docs/benchmarks.md, "Connections that end with a
/// reset"). Here a reset is the end of the stream, as it is for the protocol. Writes keep <see cref="NetworkStream"/>'s
/// send path (it allocates nothing per write) and its exceptions: whoever writes must learn that the bytes did not go
/// out, and a connection whose peer vanished usually learns it from its pending read first.
/// </para>
/// <para>
/// Cancelling a pending read ends the receive side for good (<see cref="Socket.Shutdown"/> of receive), which completes
/// the read: a connection's reads are cancelled only to close it (the pipe reader's <c>CancelPendingRead</c> on close,
/// the handshake timeout). The read then throws <see cref="OperationCanceledException"/> unless it got data.
/// </para>
/// <para>One read and one write may be in flight at a time (as with any stream); they may overlap each other.</para>
/// </remarks>
internal sealed class SocketStream : Stream
{
    private readonly Socket _socket;
    private readonly SocketOperation _receive;
    private readonly NetworkStream _writer;
    private int _disposed;

    /// <summary>Wraps <paramref name="socket"/>; disposing the stream disposes the socket.</summary>
    public SocketStream(Socket socket)
    {
        _socket = socket;
        _receive = new SocketOperation(socket);
        _writer = new NetworkStream(socket, ownsSocket: false);
    }

    /// <summary>True once a read found the connection reset, aborted or timed out (the socket is then unusable).</summary>
    public bool ConnectionLost => _receive.ConnectionLost;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return _receive.Run(buffer, cancellationToken);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <remarks>Writes go through a <see cref="NetworkStream"/> over the same socket: its send path allocates nothing.</remarks>
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        _writer.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            // Disposing the socket completes an operation still pending (OperationAborted); event args disposed while in use
            // are freed when their operation completes.
            _writer.Dispose();
            _socket.Dispose();
            _receive.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>True for the errors that mean the peer (or the network) ended the connection.</summary>
    private static bool IsConnectionEnded(SocketError error) =>
        error is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown
            or SocketError.NotConnected or SocketError.TimedOut or SocketError.NetworkReset or SocketError.HostUnreachable
            or SocketError.NetworkUnreachable;

    /// <summary>The reusable receive: a socket event args that is its own awaitable.</summary>
    private sealed class SocketOperation : SocketAsyncEventArgs, IValueTaskSource<int>
    {
        private const int Idle = 0;
        private const int Pending = 1;

        private readonly Socket _socket;
        private ManualResetValueTaskSourceCore<int> _source;
        private CancellationToken _token;
        private CancellationTokenRegistration _registration;
        private int _state;
        private volatile bool _connectionLost;

        public SocketOperation(Socket socket)
            : base(unsafeSuppressExecutionContextFlow: true)
        {
            _socket = socket;
        }

        public bool ConnectionLost => _connectionLost;

        public ValueTask<int> Run(Memory<byte> buffer, CancellationToken cancellationToken)
        {
            _source.Reset();
            _token = cancellationToken;
            SetBuffer(buffer);
            Volatile.Write(ref _state, Pending);
            // Registered before the operation starts, so a completion never races the assignment; a cancellation that
            // fires first shuts the receive side and the operation then completes at once.
            _registration = cancellationToken.CanBeCanceled
                ? cancellationToken.UnsafeRegister(static state => ((SocketOperation)state!).Cancel(), this)
                : default;
            bool pending;
            try
            {
                pending = _socket.ReceiveAsync(this);
            }
            catch (Exception ex)
            {
                Finish();
                return ValueTask.FromException<int>(ex);
            }

            if (pending)
            {
                return new ValueTask<int>(this, _source.Version);
            }

            Finish();
            try
            {
                return ValueTask.FromResult(TakeResult());
            }
            catch (Exception ex)
            {
                return ValueTask.FromException<int>(ex);
            }
        }

        protected override void OnCompleted(SocketAsyncEventArgs e)
        {
            Finish();
            try
            {
                _source.SetResult(TakeResult());
            }
            catch (Exception ex)
            {
                _source.SetException(ex);
            }
        }

        public int GetResult(short token) => _source.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _source.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _source.OnCompleted(continuation, state, token, flags);

        /// <summary>The operation is over: a later cancellation no longer touches the socket.</summary>
        private void Finish()
        {
            Volatile.Write(ref _state, Idle);
            _registration.Unregister();
            _registration = default;
        }

        private int TakeResult()
        {
            var error = SocketError;
            int bytes = BytesTransferred;
            if (bytes == 0 && _token.IsCancellationRequested)
            {
                // Ended by the cancellation (its shutdown of the receive side, or an abort), not by the peer.
                throw new OperationCanceledException(_token);
            }

            if (error == SocketError.Success)
            {
                return bytes;
            }

            // The socket was disposed under the operation (the connection is being aborted).
            ObjectDisposedException.ThrowIf(error == SocketError.OperationAborted, _socket);

            if (IsConnectionEnded(error))
            {
                _connectionLost = true;
                return 0;
            }

            throw new IOException($"The connection failed: {error}.", new SocketException((int)error));
        }

        /// <summary>Ends the receive side so that the pending read completes (sends are not affected).</summary>
        private void Cancel()
        {
            if (Volatile.Read(ref _state) == Pending)
            {
                try
                {
                    _socket.Shutdown(SocketShutdown.Receive);
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                {
                    // Already closed: the read completes on its own.
                }
            }
        }
    }
}
