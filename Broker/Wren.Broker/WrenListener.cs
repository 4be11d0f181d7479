using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Wren.Broker;

/// <summary>
/// The broker's transport: a listening socket, an accept loop, and for each accepted socket a TLS handshake
/// (<see cref="SslStream"/> over a <see cref="SocketStream"/>) before the connection is handed to
/// <see cref="WrenConnectionHandler"/>. Nothing sits between a connection's frame loops and its TLS stream: no pipe
/// pumps and no per-connection buffers while the connection is idle (see <see cref="WrenConnection"/>).
/// </summary>
/// <remarks>
/// Stopping closes the listening socket, waits for the connections (each got GoAway from the first shutdown phase)
/// until the host's shutdown token fires, then aborts the rest.
/// </remarks>
internal sealed class WrenListener : IHostedService
{
    /// <summary>Connections accepted but not yet through TLS and the connection limits, above <see cref="WrenOptions.MaxConnections"/>.</summary>
    private const int HandshakeHeadroom = 100;

    private readonly WrenOptions _options;
    private readonly ServerCertificates? _certificates;
    private readonly WrenConnectionHandler _handler;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<Socket, byte> _sockets = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Socket? _listen;
    private Task? _acceptLoop;
    private int _open;
    private volatile bool _stopping;

    public WrenListener(IOptions<WrenOptions> options, ServerCertificates? certificates, WrenConnectionHandler handler, ILogger<WrenListener> logger)
    {
        _options = options.Value;
        _certificates = certificates;
        _handler = handler;
        _logger = logger;
    }

    /// <summary>The bound endpoint (with the real port when 0 was configured); set once started.</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <summary>Sockets open now, in their TLS handshake or running.</summary>
    public int Open => Volatile.Read(ref _open);

    /// <summary>Binds and starts accepting.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var address = IPAddress.Parse(_options.Host);
        var listen = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (!OperatingSystem.IsWindows())
            {
                // A restarted broker binds at once although connections of the previous process are in TIME_WAIT.
                listen.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            }

            listen.Bind(new IPEndPoint(address, _options.Port));
            listen.Listen(_options.ListenBacklog);
        }
        catch (SocketException ex)
        {
            listen.Dispose();
            throw new IOException($"Wren cannot listen on {_options.Host}:{_options.Port}: {ex.Message}", ex);
        }

        _listen = listen;
        LocalEndPoint = (IPEndPoint)listen.LocalEndPoint!;
        _acceptLoop = Task.Run(AcceptLoopAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Stops accepting, lets connections finish until <paramref name="cancellationToken"/> fires, then aborts the rest.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        _listen?.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }

        if (Open == 0)
        {
            _drained.TrySetResult();
        }

        try
        {
            await _drained.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            HostLog.ShutdownPhase(_logger, $"aborting {Open} connections that did not close in time");
            foreach (var socket in _sockets.Keys)
            {
                socket.Dispose();
            }

            await _drained.Task.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task AcceptLoopAsync()
    {
        var listen = _listen!;
        int limit = _options.MaxConnections + HandshakeHeadroom;
        while (!_stopping)
        {
            Socket socket;
            try
            {
                socket = await listen.AcceptAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                break;
            }
            catch (SocketException ex) when (_stopping || ex.SocketErrorCode is SocketError.OperationAborted or SocketError.Interrupted)
            {
                break;
            }
            catch (SocketException ex)
            {
                // Out of file descriptors or memory: the pending connection stays in the backlog; try again shortly.
                HostLog.AcceptFailed(_logger, ex.SocketErrorCode.ToString(), ex.Message);
                await Task.Delay(50).ConfigureAwait(false);
                continue;
            }

            long acceptedMs = Environment.TickCount64;
            if (Interlocked.Increment(ref _open) > limit || _stopping)
            {
                // Far beyond the limit (the connection handler refuses with TooManyConnections below it): no TLS at all.
                socket.Dispose();
                Release();
                continue;
            }

            _sockets.TryAdd(socket, 0);
            ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.Listener.RunAsync(state.Socket, state.AcceptedMs), (Listener: this, Socket: socket, AcceptedMs: acceptedMs), preferLocal: false);
        }
    }

    private async Task RunAsync(Socket socket, long acceptedMs)
    {
        SocketStream? network = null;
        Stream? stream = null;
        try
        {
            socket.NoDelay = true;
            if (_options.SocketSendBufferBytes > 0)
            {
                socket.SendBufferSize = _options.SocketSendBufferBytes;
            }

            network = new SocketStream(socket);
            stream = network;
            if (_certificates is not null)
            {
                var tls = new SslStream(network, leaveInnerStreamOpen: false);
                stream = tls;
                // The handshake counts against the protocol's handshake timeout, TLS included.
                using (var timeout = new CancellationTokenSource(_handler.HandshakeTimeout))
                {
                    await tls.AuthenticateAsServerAsync(_certificates.CreateAuthenticationOptions(), timeout.Token).ConfigureAwait(false);
                }

                // Before the first read or write: an idle connection then holds no OpenSSL record buffers.
                OpenSslBuffers.TryReleaseWhenIdle(tls);
            }

            await _handler.RunAsync(socket, stream, acceptedMs).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // A failed or timed-out TLS handshake, or a peer gone before its first frame.
            HostLog.HandshakeFailed(_logger, ex.GetType().Name, ex.Message);
        }
        catch (Exception ex)
        {
            HostLog.ConnectionFailed(_logger, ex);
        }
        finally
        {
            if (network is not { ConnectionLost: true })
            {
                try
                {
                    socket.Shutdown(SocketShutdown.Both);
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                {
                    // Already reset or closed.
                }
            }

            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }

            socket.Dispose();
            _sockets.TryRemove(socket, out _);
            Release();
        }
    }

    private void Release()
    {
        if (Interlocked.Decrement(ref _open) == 0 && _stopping)
        {
            _drained.TrySetResult();
        }
    }
}
