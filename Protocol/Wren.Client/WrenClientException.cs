using Wren.Protocol;

namespace Wren.Client;

/// <summary>A request failed with an error from the server, or the connection failed.</summary>
public sealed class WrenClientException : Exception
{
    /// <summary>Creates the exception.</summary>
    public WrenClientException(ErrorCode code, string message, uint retryAfterMs = 0)
        : base($"{code}: {message}")
    {
        Code = code;
        RetryAfterMs = retryAfterMs;
    }

    /// <summary>Creates the exception.</summary>
    public WrenClientException()
        : this(ErrorCode.InternalError, "client error")
    {
    }

    /// <summary>Creates the exception.</summary>
    public WrenClientException(string message)
        : this(ErrorCode.InternalError, message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public WrenClientException(string message, Exception innerException)
        : base(message, innerException) => Code = ErrorCode.InternalError;

    /// <summary>The server's error code (InternalError for local failures).</summary>
    public ErrorCode Code { get; }

    /// <summary>Suggested wait before retrying, for RateLimited and StorageUnavailable.</summary>
    public uint RetryAfterMs { get; }

    /// <summary>
    /// True when the failure is local to this client's connection (not connected, connection lost, closed during the
    /// handshake) rather than an error the server reported.
    /// </summary>
    public bool IsConnectionFailure { get; private init; }

    /// <summary>A failure of this client's connection (see <see cref="IsConnectionFailure"/>).</summary>
    public static WrenClientException ConnectionFailure(string message) =>
        new(ErrorCode.InternalError, message) { IsConnectionFailure = true };
}
