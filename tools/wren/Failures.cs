using System.Net.Sockets;
using System.Security.Authentication;
using Wren.Cli.Connection;
using Wren.Client;
using Wren.Protocol;

namespace Wren.Cli;

/// <summary>Turns exceptions into one clear line and an exit code; nothing internal (stack traces, types) reaches the user.</summary>
internal static class Failures
{
    /// <summary>A failure while connecting, naming the broker and where the credentials came from.</summary>
    public static CliException FromConnect(Exception exception, ResolvedConnection connection, bool timedOut)
    {
        string where = connection.Server.ToString();
        switch (exception)
        {
            case CliException cli:
                return cli;
            case OperationCanceledException when timedOut:
                return CliException.Connection($"timed out after {connection.Timeout.TotalSeconds:0} s connecting to {where}: is the broker running and reachable? (--timeout to wait longer)");
            case SocketException socket:
                return CliException.Connection(socket.SocketErrorCode switch
                {
                    SocketError.ConnectionRefused => $"cannot connect to {where}: connection refused. Is the broker running? Start it with ./run.sh, or pass --server HOST:PORT",
                    SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => $"cannot connect to {where}: unknown host '{connection.Server.Host}'",
                    SocketError.TimedOut => $"cannot connect to {where}: timed out. Is the address right and the port open?",
                    _ => $"cannot connect to {where}: {socket.Message.TrimEnd('.')}",
                });
            case AuthenticationException tls when tls.Message.Contains("RemoteCertificateValidationCallback", StringComparison.Ordinal):
                return CliException.Connection(connection.Fingerprint is not null
                    ? $"TLS: the certificate of {where} does not match the pinned fingerprint (from {connection.FingerprintOrigin}). If the broker generated a new certificate, use the fingerprint it printed at start; run `wren doctor` to see the one it presents"
                    : $"TLS: the certificate of {where} is not trusted. Pin it with --fingerprint (the broker prints it at start) or --data-dir DIR (its dev-cert.pfx); run `wren doctor` for details");
            case AuthenticationException or IOException:
                return CliException.Connection(connection.UseTls
                    ? $"TLS handshake with {where} failed. Is it a Wren broker with TLS? (use --insecure-plaintext only for a broker started with --plaintext)"
                    : $"the connection to {where} failed. If the broker uses TLS (the default), drop --insecure-plaintext");
            case WrenClientException { Code: ErrorCode.AuthFailed }:
                return CliException.Connection($"authentication failed: {where} rejected the token from {connection.TokenOrigin} (wrong, expired or revoked, or its user is disabled)");
            case WrenClientException { IsConnectionFailure: true } when !connection.UseTls:
                return CliException.Connection($"{where} closed the connection during the handshake. Does it use TLS? Then drop --insecure-plaintext");
            case WrenClientException { IsConnectionFailure: true } or WrenClientException { Code: ErrorCode.ProtocolError }:
                return CliException.Connection($"{where} closed the connection during the handshake. Is it a Wren broker?");
            case WrenClientException client:
                return CliException.Connection($"{where} refused the connection: {ServerMessage(client)}");
            default:
                return FromOperation(exception);
        }
    }

    /// <summary>A failure after connecting: the broker's answer, a lost connection, or a timeout.</summary>
    public static CliException FromOperation(Exception exception) => exception switch
    {
        CliException cli => cli,
        WrenClientException { IsConnectionFailure: true } =>
            CliException.Connection("the connection to the broker was lost"),
        WrenClientException client when (ushort)client.Code is >= 100 and < 200 =>
            CliException.Connection($"the broker closed the connection: {ServerMessage(client)}"),
        WrenClientException { Code: ErrorCode.InvalidArgument } client =>
            CliException.Usage($"the broker rejected an argument: {ServerMessage(client)}"),
        WrenClientException { Code: ErrorCode.NotFound } client => new CliException($"not found: {ServerMessage(client)}"),
        WrenClientException { Code: ErrorCode.Forbidden } client => new CliException($"forbidden: {ServerMessage(client)}"),
        WrenClientException { Code: ErrorCode.Conflict } client => new CliException($"conflict: {ServerMessage(client)}"),
        WrenClientException { Code: ErrorCode.UnsupportedOperation } client =>
            new CliException($"the broker does not support this operation: {ServerMessage(client)}"),
        WrenClientException client => new CliException($"the broker answered {client.Code}: {ServerMessage(client)}"),
        OperationCanceledException or TimeoutException => CliException.Connection("timed out waiting for the broker's answer (--timeout to wait longer)"),
        SocketException or IOException or ObjectDisposedException => CliException.Connection("the connection to the broker was lost"),
        UnauthorizedAccessException io => new CliException($"permission denied: {io.Message.TrimEnd('.')}"),
        _ => new CliException($"unexpected failure: {exception.Message.TrimEnd('.')}"),
    };

    /// <summary>An administrator operation answered Forbidden: the token is not an administrator's, or not on the broker's host.</summary>
    public static CliException AdminRefused(ResolvedConnection connection) => CliException.Connection(
        $"the broker refused administration with the token from {connection.TokenOrigin}: it must be an administrator's, used on the broker's own host (or the broker must set Limits:AllowRemoteAdmin)");

    /// <summary>The server's own text, without the "Code: " prefix the SDK adds.</summary>
    public static string ServerMessage(WrenClientException exception)
    {
        string prefix = exception.Code + ": ";
        return exception.Message.StartsWith(prefix, StringComparison.Ordinal) ? exception.Message[prefix.Length..] : exception.Message;
    }
}
