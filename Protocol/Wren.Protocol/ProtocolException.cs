using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Wren.Protocol;

/// <summary>A protocol-level failure with the <see cref="ErrorCode"/> that describes it.</summary>
public sealed class ProtocolException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ProtocolException(ErrorCode code, string? message = null)
        : base(message ?? code.ToString()) => Code = code;

    /// <summary>Creates the exception with a default message.</summary>
    public ProtocolException()
        : this(ErrorCode.ProtocolError)
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ProtocolException(string message)
        : this(ErrorCode.ProtocolError, message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public ProtocolException(string message, Exception innerException)
        : base(message, innerException) => Code = ErrorCode.ProtocolError;

    /// <summary>The error code.</summary>
    public ErrorCode Code { get; }

    /// <summary>True when the connection closes after this error.</summary>
    public bool ClosesConnection => ErrorCodes.ClosesConnection(Code);

    /// <summary>Throws a <see cref="ProtocolException"/>; kept out of line so callers stay small.</summary>
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Throw(ErrorCode code, string? field = null) =>
        throw new ProtocolException(code, field is null ? code.ToString() : $"{code}: {field}");
}
