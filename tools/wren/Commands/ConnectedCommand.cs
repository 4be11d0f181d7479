using Wren.Cli.Connection;
using Wren.Client;
using Wren.Protocol;

namespace Wren.Cli.Commands;

/// <summary>A command that connects to the broker, does its work over one SDK connection, and disconnects.</summary>
internal abstract class ConnectedCommand<TSettings>(CliOutput output) : WrenCommand<TSettings>(output)
    where TSettings : ConnectionSettings
{
    /// <summary>Which token the command runs with.</summary>
    protected abstract TokenUse TokenUse { get; }

    /// <summary>Which token the command runs with for these settings; <see cref="TokenUse"/> unless a flag changes it.</summary>
    protected virtual TokenUse TokenUseFor(TSettings settings) => TokenUse;

    protected sealed override async Task<int> RunAsync(TSettings settings, CancellationToken cancellationToken)
    {
        var use = TokenUseFor(settings);
        var connection = ConnectionResolver.Resolve(settings, Host, use);
        await using var client = await CliConnect.ConnectAsync(connection, cancellationToken, options => Configure(settings, options)).ConfigureAwait(false);
        try
        {
            return await RunAsync(client, settings, cancellationToken).ConfigureAwait(false);
        }
        catch (WrenClientException ex) when (ex.Code == ErrorCode.Forbidden && use == TokenUse.Admin)
        {
            throw Failures.AdminRefused(connection);
        }
    }

    /// <summary>Adjusts the SDK options (one-shot defaults: no auto-reconnect, no auto-ack).</summary>
    protected virtual void Configure(TSettings settings, WrenClientOptions options)
    {
    }

    protected abstract Task<int> RunAsync(WrenClient client, TSettings settings, CancellationToken cancellationToken);
}
