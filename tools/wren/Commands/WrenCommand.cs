using Spectre.Console.Cli;

namespace Wren.Cli.Commands;

/// <summary>Base of every command: the invocation's output and host, and an async body returning the exit code.</summary>
internal abstract class WrenCommand<TSettings>(CliOutput output) : AsyncCommand<TSettings>
    where TSettings : CommandSettings
{
    protected CliOutput Output { get; } = output;

    protected CliHost Host => Output.Host;

    public sealed override Task<int> ExecuteAsync(CommandContext context, TSettings settings, CancellationToken cancellationToken)
    {
        Output.CommandStarted = true;
        return RunAsync(settings, cancellationToken);
    }

    protected abstract Task<int> RunAsync(TSettings settings, CancellationToken cancellationToken);
}
