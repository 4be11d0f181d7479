namespace Wren.Cli;

/// <summary>A failure the CLI reports as one line on standard error, with its exit code; never a stack trace.</summary>
internal sealed class CliException : Exception
{
    public CliException(int exitCode, string message)
        : base(message) => ExitCode = exitCode;

    public CliException(int exitCode, string message, Exception innerException)
        : base(message, innerException) => ExitCode = exitCode;

    public CliException()
        : this(ExitCodes.OperationFailed, "failed")
    {
    }

    public CliException(string message)
        : this(ExitCodes.OperationFailed, message)
    {
    }

    public CliException(string message, Exception innerException)
        : this(ExitCodes.OperationFailed, message, innerException)
    {
    }

    /// <summary>The process exit code (see <see cref="ExitCodes"/>).</summary>
    public int ExitCode { get; }

    public static CliException Usage(string message) => new(ExitCodes.BadArguments, message);

    public static CliException Connection(string message) => new(ExitCodes.ConnectionFailed, message);

    public static CliException NotSupported(string what, string? instead = null) =>
        new(ExitCodes.OperationFailed, $"{what} is not supported by this broker version yet" + (instead is null ? "" : $"; {instead}"));
}
