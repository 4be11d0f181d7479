using System.Collections.Concurrent;
using Wren.Protocol;
using Wren.Protocol.Messages;

namespace Wren.Broker.Core;

/// <summary>
/// One connection's session: the handshake state machine, per-operation authorization, and the per-conversation
/// positions that make delivery gap-free and duplicate-free on this connection.
/// </summary>
/// <remarks>
/// The transport's read loop calls <see cref="HandleAsync"/> for each frame, in order, and awaits it. Sends are not
/// awaited by the read loop (many may be in flight, bounded); everything else completes before the next frame is read.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "The semaphore never creates a wait handle; sends in flight may release it after the session ends.")]
public sealed partial class Session
{
    private const int MaxSendsInFlight = 256;

    private readonly BrokerCore _core;
    private readonly ConcurrentDictionary<ulong, ulong> _live = new();
    private readonly SemaphoreSlim _sendSlots = new(MaxSendsInFlight, MaxSendsInFlight);
    private readonly TokenBucket _sendBucket;
    private readonly TokenBucket _typingBucket;
    private SessionState _state = SessionState.AwaitHello;
    private bool _isAdmin;
    private int _closed;

    internal Session(BrokerCore core, IFrameSink sink, ulong sessionId)
    {
        _core = core;
        Sink = sink;
        SessionId = sessionId;
        core.SessionOpened();
        long now = core.NowMs;
        _sendBucket = new TokenBucket(core.Limits.SendsPerSecond, core.Limits.SendsPerSecond * 2, now);
        _typingBucket = new TokenBucket(core.Limits.TypingPerSecond, core.Limits.TypingPerSecond, now);
    }

    /// <summary>The connection's outbound side.</summary>
    public IFrameSink Sink { get; }

    /// <summary>Server-assigned session id.</summary>
    public ulong SessionId { get; }

    /// <summary>The authenticated user (0 before AuthOk).</summary>
    public ulong UserId { get; private set; }

    /// <summary>The authenticated device (0 before AuthOk).</summary>
    public uint DeviceId { get; private set; }

    /// <summary>True once AuthOk was sent.</summary>
    public bool IsAuthenticated => _state == SessionState.Authenticated;

    /// <summary>True once the session has ended.</summary>
    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    internal bool TryGetLive(ulong conversationId, out ulong lastSent) => _live.TryGetValue(conversationId, out lastSent);

    internal void SetLive(ulong conversationId, ulong lastSent) => _live[conversationId] = lastSent;

    /// <summary>
    /// Handles one frame. Returns false when the connection must close; the final frame has then been queued with
    /// <see cref="IFrameSink.Close"/>.
    /// </summary>
    /// <remarks>The frame's body is decoded before this method returns its first await, so the caller may release it.</remarks>
    public ValueTask<bool> HandleAsync(in Frame frame)
    {
        uint requestId = frame.Header.RequestId;
        var decoded = MessageCodec.TryDecode(frame, _core.ProtocolLimits, out var message);
        if (!decoded.IsSuccess)
        {
            return ValueTask.FromResult(RejectUndecodable(frame.Header, decoded));
        }

        return _state switch
        {
            SessionState.AwaitHello => ValueTask.FromResult(OnHello(message!, requestId)),
            SessionState.AwaitAuth => ValueTask.FromResult(OnAuth(message!, requestId)),
            SessionState.Authenticated => DispatchAsync(message!, requestId),
            _ => ValueTask.FromResult(false),
        };
    }

    /// <summary>Ends the session: unregisters it and tells the members' devices when the user went offline.</summary>
    public void OnClosed()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        _state = SessionState.Closed;
        _core.SessionClosed();
        if (UserId != 0 && _core.Registry.Remove(this))
        {
            PushPresence(PresenceStatus.Offline);
        }
    }

    /// <summary>Closes the session with a connection-level error.</summary>
    public bool Fail(ErrorCode code, string? message = null, uint requestId = 0)
    {
        CoreLog.ProtocolViolation(_core.Logger, SessionId, code);
        Sink.Close(Frames.Error(requestId, code, message));
        return false;
    }

    private bool RejectUndecodable(FrameHeader header, DecodeResult decoded)
    {
        string message = decoded.Field is null ? decoded.Error.ToString() : $"{decoded.Error}: {decoded.Field}";
        if (ErrorCodes.ClosesConnection(decoded.Error) || _state != SessionState.Authenticated)
        {
            // Before authentication every failure ends the handshake.
            return Fail(decoded.Error == ErrorCode.UnsupportedOperation && _state != SessionState.Authenticated
                ? ErrorCode.ProtocolError : decoded.Error, message, header.RequestId);
        }

        if (header.RequestId != 0)
        {
            Reply(Frames.Error(header.RequestId, decoded.Error, message));
        }

        return true;
    }

    private bool OnHello(IMessage message, uint requestId)
    {
        if (message is not Hello hello)
        {
            return Fail(ErrorCode.ProtocolError, "the first frame must be Hello", requestId);
        }

        if (hello.MinVersion > hello.MaxVersion || hello.MaxVersion < ProtocolLimits.MinVersion || hello.MinVersion > ProtocolLimits.MaxVersion)
        {
            return Fail(ErrorCode.UnsupportedVersion, $"server speaks versions {ProtocolLimits.MinVersion}-{ProtocolLimits.MaxVersion}", requestId);
        }

        var limits = _core.Limits;
        Reply(Frames.Encode(requestId, new Welcome
        {
            Version = Math.Min(hello.MaxVersion, ProtocolLimits.MaxVersion),
            ServerName = "wren",
            ServerVersion = typeof(Session).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
            ServerTimeMs = _core.NowMs,
            Limits = new ServerLimits
            {
                MaxFrameLength = (uint)_core.ProtocolLimits.MaxFrameLength,
                MaxMessageBodyBytes = (uint)_core.ProtocolLimits.MaxMessageBodyBytes,
                PingIntervalMs = (uint)limits.PingInterval.TotalMilliseconds,
                IdleTimeoutMs = (uint)limits.IdleTimeout.TotalMilliseconds,
                HandshakeTimeoutMs = (uint)limits.HandshakeTimeout.TotalMilliseconds,
                MaxSyncBatch = (uint)limits.MaxSyncBatch,
                MaxHistoryPage = (uint)limits.MaxHistoryPage,
                MaxListItems = (uint)_core.ProtocolLimits.MaxListItems,
            },
        }));
        _state = SessionState.AwaitAuth;
        return true;
    }

    private bool OnAuth(IMessage message, uint requestId)
    {
        switch (message)
        {
            case EmptyMessage { Type: MessageType.Ping }:
                Reply(Frames.Empty(MessageType.Pong, requestId));
                return true;
            case EmptyMessage { Type: MessageType.Pong }:
                return true;
            case Auth:
                break;
            case Hello:
                return Fail(ErrorCode.ProtocolError, "Hello was already sent", requestId);
            default:
                return Fail(ErrorCode.NotAuthenticated, "authenticate first", requestId);
        }

        var auth = (Auth)message;
        var result = auth.Method == AuthMethod.Token ? _core.Authenticator.Authenticate(auth.Token!) : null;
        if (result is not { } ok)
        {
            CoreLog.AuthFailed(_core.Logger, SessionId, Sink.RemoteAddress);
            return Fail(ErrorCode.AuthFailed, "invalid credentials", requestId);
        }

        UserId = ok.User.UserId;
        DeviceId = ok.Token.DeviceId;
        _isAdmin = ok.User.IsAdmin;
        _state = SessionState.Authenticated;
        Reply(Frames.Encode(requestId, new AuthOk
        {
            UserId = ok.User.UserId,
            UserName = ok.User.UserName,
            DeviceId = ok.Token.DeviceId,
            SessionId = SessionId,
            ExpiresMs = ok.Token.ExpiresMs,
        }));
        CoreLog.Authenticated(_core.Logger, SessionId, Sink.RemoteAddress, UserId, DeviceId);
        if (_core.Registry.Add(this))
        {
            PushPresence(PresenceStatus.Online);
        }

        return true;
    }

    private void Reply(byte[] frame) => Sink.TrySend(frame);

    private void ReplyError(uint requestId, ErrorCode code, string? message = null, uint retryAfterMs = 0) =>
        Sink.TrySend(Frames.Error(requestId, code, message, retryAfterMs));

    private enum SessionState
    {
        AwaitHello,
        AwaitAuth,
        Authenticated,
        Closed,
    }
}
