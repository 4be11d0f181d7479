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
}
