namespace Wren.Cli;

/// <summary>The exit codes of every <c>wren</c> command, so scripts can tell failures apart.</summary>
public static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Success = 0;

    /// <summary>The broker refused or could not do the operation (not found, conflict, forbidden, not supported, proof failed).</summary>
    public const int OperationFailed = 1;

    /// <summary>The command line is wrong: unknown command or option, missing or malformed argument.</summary>
    public const int BadArguments = 2;

    /// <summary>The broker could not be reached or trusted, or the credentials were rejected (TCP, TLS, authentication).</summary>
    public const int ConnectionFailed = 3;
}
