using Microsoft.Extensions.Logging;

namespace Wren.Broker.Core;

/// <summary>Log messages of the routing core. Event ids 1000–1999. Client-caused events are Information or below.</summary>
internal static partial class CoreLog
{
    [LoggerMessage(1000, LogLevel.Error, "Routing partition work failed")]
    public static partial void PartitionWorkFailed(ILogger logger, Exception exception);

    [LoggerMessage(1001, LogLevel.Debug, "Session {SessionId} from {Remote} authenticated as user {UserId} device {DeviceId}")]
    public static partial void Authenticated(ILogger logger, ulong sessionId, string remote, ulong userId, uint deviceId);

    [LoggerMessage(1002, LogLevel.Information, "Session {SessionId} from {Remote} failed authentication")]
    public static partial void AuthFailed(ILogger logger, ulong sessionId, string remote);

    [LoggerMessage(1003, LogLevel.Debug, "Session {SessionId} closed by protocol error {Code}")]
    public static partial void ProtocolViolation(ILogger logger, ulong sessionId, Protocol.ErrorCode code);

    [LoggerMessage(1004, LogLevel.Error, "Request of type {Type} failed in session {SessionId}")]
    public static partial void RequestFailed(ILogger logger, Exception exception, Protocol.MessageType type, ulong sessionId);

    [LoggerMessage(1005, LogLevel.Warning, "Appends refused: storage unavailable ({Refused} since the last report; reported at most once a second)")]
    public static partial void StorageUnavailable(ILogger logger, long refused);

    [LoggerMessage(1006, LogLevel.Information, "Checkpoint requested by session {SessionId} failed")]
    public static partial void CheckpointFailed(ILogger logger, Exception exception, ulong sessionId);

    [LoggerMessage(1007, LogLevel.Information, "Checkpoint written to {Directory} for session {SessionId}")]
    public static partial void CheckpointWritten(ILogger logger, string directory, ulong sessionId);
}
