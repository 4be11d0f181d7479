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
    // Conversations this device is live for, with the last seq sent. Sized for a device in a few conversations (the
    // default, 31 buckets and a lock per core, is ~400 bytes per connection before the first entry); it grows as needed.
    private readonly ConcurrentDictionary<ulong, ulong> _live = new(concurrencyLevel: 1, capacity: 4);
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

    /// <summary>SHA-256 of the device token this session authenticated with (null before AuthOk).</summary>
    internal byte[]? CredentialHash { get; private set; }

    /// <summary>When the session's token expires, Unix ms; 0 = never. The authenticator closes the session then.</summary>
    internal long CredentialExpiresMs { get; private set; }

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
            SessionState.AwaitAuth => OnAuthAsync(message!, requestId),
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

    private ValueTask<bool> OnAuthAsync(IMessage message, uint requestId)
    {
        switch (message)
        {
            case EmptyMessage { Type: MessageType.Ping }:
                Reply(Frames.Empty(MessageType.Pong, requestId));
                return ValueTask.FromResult(true);
            case EmptyMessage { Type: MessageType.Pong }:
                return ValueTask.FromResult(true);
            case Auth { Method: AuthMethod.Token } auth:
                return ValueTask.FromResult(OnTokenAuth(auth, requestId));
            case Auth auth:
                return new ValueTask<bool>(OnLoginAsync(auth, requestId));
            case Hello:
                return ValueTask.FromResult(Fail(ErrorCode.ProtocolError, "Hello was already sent", requestId));
            default:
                return ValueTask.FromResult(Fail(ErrorCode.NotAuthenticated, "authenticate first", requestId));
        }
    }

    private bool OnTokenAuth(Auth auth, uint requestId)
    {
        var result = _core.Authenticator.Authenticate(auth.Token!);
        if (result is not { } ok)
        {
            CoreLog.AuthFailed(_core.Logger, SessionId, Sink.RemoteAddress);
            RecordAudit(AuditAction.LoginFailed, 0, "token");
            return Fail(ErrorCode.AuthFailed, "invalid credentials", requestId);
        }

        Authenticated(ok.User, ok.Token.DeviceId, ok.Token.TokenHash, ok.Token.ExpiresMs, requestId, issued: null);
        RecordAudit(AuditAction.LoginSucceeded, ok.User.UserId, "token");
        return true;
    }

    /// <summary>Password, OIDC and refresh logins: each issues a token pair that AuthOk carries.</summary>
    private async Task<bool> OnLoginAsync(Auth auth, uint requestId)
    {
        var authenticator = _core.Authenticator;
        string? address = ClientAddress;
        LoginResult result;
        try
        {
            result = auth.Method switch
            {
                AuthMethod.Password => await authenticator.PasswordLoginAsync(auth.UserName!, auth.Password!, auth.TotpCode, auth.DeviceName, address).ConfigureAwait(false),
                AuthMethod.OidcToken => await authenticator.OidcLoginAsync(auth.Token!, auth.DeviceName, address).ConfigureAwait(false),
                AuthMethod.RefreshToken => await authenticator.RefreshAsync(auth.Token!, address).ConfigureAwait(false),
                _ => LoginResult.Failed(),
            };
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            CoreLog.RequestFailed(_core.Logger, ex, MessageType.Auth, SessionId);
            return Fail(ErrorCode.InternalError, "internal error", requestId);
        }

        string method = auth.Method.ToString();
        if (result.Pair is not { } pair)
        {
            CoreLog.AuthFailed(_core.Logger, SessionId, address);
            RecordAudit(result.Audit, result.SubjectUserId, method + ": " + result.Message);
            if (IsClosed)
            {
                return false;
            }

            CoreLog.ProtocolViolation(_core.Logger, SessionId, result.Error);
            Sink.Close(Frames.Error(requestId, result.Error, result.Message, result.RetryAfterMs));
            return false;
        }

        if (IsClosed)
        {
            return false;
        }

        var access = pair.Access;
        Authenticated(access.User, access.Device.DeviceId, Authenticator.Hash(access.Token), access.ExpiresMs, requestId, pair);
        RecordAudit(result.Audit == AuditAction.TokenRefreshed ? AuditAction.TokenRefreshed : AuditAction.TokenIssued, access.User.UserId, method);
        RecordAudit(AuditAction.LoginSucceeded, access.User.UserId, method);
        return true;
    }

    private void Authenticated(Storage.UserRecord user, uint deviceId, byte[] credentialHash, long expiresMs, uint requestId, IssuedPair? issued)
    {
        UserId = user.UserId;
        DeviceId = deviceId;
        CredentialHash = credentialHash;
        CredentialExpiresMs = expiresMs;
        _isAdmin = user.IsAdmin;
        _state = SessionState.Authenticated;
        Reply(Frames.Encode(requestId, new AuthOk
        {
            UserId = user.UserId,
            UserName = user.UserName,
            DeviceId = deviceId,
            SessionId = SessionId,
            ExpiresMs = expiresMs,
            IssuedToken = issued?.Access.Token,
            RefreshToken = issued?.RefreshToken,
            RefreshExpiresMs = issued?.RefreshExpiresMs ?? 0,
        }));
        CoreLog.Authenticated(_core.Logger, SessionId, Sink.RemoteAddress, UserId, DeviceId);
        if (_core.Registry.Add(this))
        {
            PushPresence(PresenceStatus.Online);
        }
    }

    /// <summary>Switches this session to a refreshed token, so the expiry check follows the new one.</summary>
    internal void UseCredential(byte[] credentialHash, long expiresMs)
    {
        CredentialHash = credentialHash;
        CredentialExpiresMs = expiresMs;
    }

    private void RecordAudit(AuditAction action, ulong subjectUserId, string? detail) =>
        _core.Audit.Record(new AuditEvent(action, UserId != 0 ? UserId : subjectUserId, DeviceId, subjectUserId, 0, detail, Sink.RemoteAddress));

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
