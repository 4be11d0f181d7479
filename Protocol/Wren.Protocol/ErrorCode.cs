namespace Wren.Protocol;

/// <summary>
/// Every error the server can report, on the wire as an unsigned 16-bit number.
/// </summary>
/// <remarks>
/// Codes 100–199 are connection errors: the server sends the Error (or GoAway) frame, flushes and closes.
/// Codes 200–299 are request errors: the request fails and the connection stays open.
/// The numbers are part of the wire format and never change meaning; new codes are only appended.
/// </remarks>
public enum ErrorCode : ushort
{
    /// <summary>No error. Never sent.</summary>
    None = 0,

    /// <summary>The peer broke a protocol rule (for example a reserved flag bit was set, or a frame arrived out of order).</summary>
    ProtocolError = 100,

    /// <summary>A frame's declared length is larger than the negotiated maximum frame length.</summary>
    FrameTooLarge = 101,

    /// <summary>A frame header is invalid: the declared length is shorter than the fixed part of the header.</summary>
    MalformedFrame = 102,

    /// <summary>A frame body is not valid MessagePack for its type, nests too deeply, has trailing bytes, or breaks a field limit.</summary>
    MalformedBody = 103,

    /// <summary>No protocol version is supported by both sides.</summary>
    UnsupportedVersion = 104,

    /// <summary>The handshake (Hello and Auth) did not complete within the server's handshake timeout.</summary>
    HandshakeTimeout = 105,

    /// <summary>An operation other than Hello, Auth or Ping was sent before authentication succeeded.</summary>
    NotAuthenticated = 106,

    /// <summary>The credentials were rejected.</summary>
    AuthFailed = 107,

    /// <summary>Nothing was received for longer than the idle timeout.</summary>
    IdleTimeout = 108,

    /// <summary>The connection's outbound queue passed its limit because the client read too slowly.</summary>
    SlowConsumer = 109,

    /// <summary>The server or this client address already holds the maximum number of connections.</summary>
    TooManyConnections = 110,

    /// <summary>The server is shutting down.</summary>
    ShuttingDown = 111,

    /// <summary>The session's token was revoked or its user was disabled.</summary>
    SessionRevoked = 112,

    /// <summary>The frame type is unknown to the server or not valid in this direction.</summary>
    UnsupportedOperation = 200,

    /// <summary>A field is out of range or missing (for example an empty client message id).</summary>
    InvalidArgument = 201,

    /// <summary>The conversation, user or message does not exist, or the caller may not see it.</summary>
    NotFound = 202,

    /// <summary>The caller may see the object but may not perform this operation on it.</summary>
    Forbidden = 203,

    /// <summary>The client message id was already used by this sender with a different body.</summary>
    Conflict = 204,

    /// <summary>A rate limit was hit; retry after the number of milliseconds in the error.</summary>
    RateLimited = 205,

    /// <summary>A size or count limit was hit (members per group, conversations per user, message body size).</summary>
    LimitExceeded = 206,

    /// <summary>The server cannot store the request durably right now (for example the disk is full); nothing was acknowledged.</summary>
    StorageUnavailable = 207,

    /// <summary>The server failed unexpectedly while handling the request; details are in the server log, not on the wire.</summary>
    InternalError = 208,
}

/// <summary>Properties of <see cref="ErrorCode"/> values that clients and the server both rely on.</summary>
public static class ErrorCodes
{
    /// <summary>True when the server closes the connection after sending this code.</summary>
    public static bool ClosesConnection(ErrorCode code) => (ushort)code is >= 100 and < 200;

    /// <summary>True when the value is one this protocol version defines.</summary>
    public static bool IsDefined(ErrorCode code) => Enum.IsDefined(code);
}
