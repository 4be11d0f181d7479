using Microsoft.Extensions.Logging;

namespace Wren.Broker;

/// <summary>Log messages of the broker host. Event ids 2000–2999.</summary>
internal static partial class HostLog
{
    [LoggerMessage(2000, LogLevel.Information, "Wren listening on {Endpoint} ({Transport}); data in {DataDirectory}")]
    public static partial void Listening(ILogger logger, string endpoint, string transport, string dataDirectory);

    [LoggerMessage(2001, LogLevel.Information, "TLS certificate {Subject} SHA-256 fingerprint {Fingerprint}{Generated}")]
    public static partial void Certificate(ILogger logger, string subject, string fingerprint, string generated);

    [LoggerMessage(2002, LogLevel.Information, "Connection from {Remote} refused: {Total} connections, {FromAddress} from this address")]
    public static partial void ConnectionRefused(ILogger logger, string remote, int total, int fromAddress);

    [LoggerMessage(2003, LogLevel.Warning, "Created administrator 'admin'; its token is in {Path} (readable by this user only)")]
    public static partial void AdminBootstrapped(ILogger logger, string path);

    [LoggerMessage(2004, LogLevel.Information, "Shutdown: {Phase}")]
    public static partial void ShutdownPhase(ILogger logger, string phase);

    [LoggerMessage(2005, LogLevel.Warning, "Accepting a connection failed ({Error}): {Message}; retrying")]
    public static partial void AcceptFailed(ILogger logger, string error, string message);

    [LoggerMessage(2006, LogLevel.Debug, "Connection ended before or during its TLS handshake ({Kind}): {Message}")]
    public static partial void HandshakeFailed(ILogger logger, string kind, string message);

    [LoggerMessage(2007, LogLevel.Error, "Connection failed unexpectedly")]
    public static partial void ConnectionFailed(ILogger logger, Exception exception);

    [LoggerMessage(2008, LogLevel.Information, "Connection from {Remote} (session {SessionId}) closed as a slow consumer: {Pending} bytes queued, limit {Limit}")]
    public static partial void SlowConsumer(ILogger logger, string remote, ulong sessionId, long pending, long limit);
}
