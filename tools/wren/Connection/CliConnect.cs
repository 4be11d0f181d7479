using Wren.Client;

namespace Wren.Cli.Connection;

/// <summary>Opens SDK connections for commands, turning every connect failure into a clear <see cref="CliException"/>.</summary>
internal static class CliConnect
{
    /// <summary>Connects and authenticates within the connection's timeout.</summary>
    /// <remarks>
    /// One-shot commands connect without auto-ack, so looking at a conversation from a script does not move the device's
    /// delivered cursor, and without auto-reconnect, so a lost connection fails the command instead of hanging it.
    /// </remarks>
    public static async Task<WrenClient> ConnectAsync(ResolvedConnection connection, CancellationToken cancellationToken, Action<WrenClientOptions>? configure = null)
    {
        var options = connection.ToClientOptions();
        configure?.Invoke(options);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(connection.Timeout);
        try
        {
            return await WrenClient.ConnectAsync(options, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not CliException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw Failures.FromConnect(ex, connection, timeout.IsCancellationRequested);
        }
    }
}
