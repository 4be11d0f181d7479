using System.ComponentModel;
using Spectre.Console.Cli;

namespace Wren.Cli.Commands;

internal sealed class AnyArgumentsSettings : CommandSettings
{
    [CommandArgument(0, "[ARGS]")]
    [Description("Arguments the operation will take once the broker supports it.")]
    public string[] Arguments { get; init; } = [];
}

/// <summary>
/// A verb the wire has no operation for yet. It says so and exits non-zero instead of pretending; the message names
/// what to use meanwhile. The text comes from the command's registration data.
/// </summary>
internal sealed class NotSupportedCommand(CliOutput output) : AsyncCommand<AnyArgumentsSettings>
{
    public override Task<int> ExecuteAsync(CommandContext context, AnyArgumentsSettings settings, CancellationToken cancellationToken)
    {
        output.CommandStarted = true;
        var (what, instead) = context.Data is NotSupported data ? (data.What, data.Instead) : ("this command", null);
        throw CliException.NotSupported(what, instead);
    }
}

/// <summary>Registration data of a <see cref="NotSupportedCommand"/>.</summary>
internal sealed record NotSupported(string What, string? Instead = null);

/// <summary><c>wren backup</c>: the documented procedure (the broker has no online backup operation yet).</summary>
internal sealed class BackupCommand(CliOutput output) : WrenCommand<EmptyCommandSettings>(output)
{
    public const string Procedure = """
        Backing up a Wren broker (see docs/operations.md, "Backup and restore"):

          1. Stop the broker (Ctrl+C, or SIGTERM): it flushes and closes its storage.
          2. Copy the whole data directory, e.g.
               tar -C /path/to -czf wren-backup-$(date +%Y%m%d-%H%M%S).tar.gz data
             It holds db/ (RocksDB: messages, users, tokens, cursors), dev-cert.pfx and admin.token;
             keep the copy as private as the original (it contains the administrator's token).
          3. Start the broker again (./run.sh).

        An online backup is not possible yet: the storage layer can write a consistent checkpoint
        (WrenStore.CheckpointAsync), but the broker does not expose it over the wire.
        """;

    protected override Task<int> RunAsync(EmptyCommandSettings settings, CancellationToken cancellationToken)
    {
        Output.Line(Procedure);
        return Task.FromResult(ExitCodes.Success);
    }
}

/// <summary><c>wren restore</c>: the documented procedure.</summary>
internal sealed class RestoreCommand(CliOutput output) : WrenCommand<EmptyCommandSettings>(output)
{
    public const string Procedure = """
        Restoring a Wren broker from a backup of its data directory (see docs/operations.md):

          1. Stop the broker.
          2. Move the current data directory aside (do not merge directories):
               mv data data.before-restore
          3. Unpack the backup in its place:
               tar -C . -xzf wren-backup-YYYYMMDD-HHMMSS.tar.gz
          4. Start the broker (./run.sh).

        Caution: the restored logs end where the backup was taken, but their epochs do not change.
        A device that received messages after the backup holds seqs the broker will now reuse for
        new messages, and skips those as already held. Restore only to recover from loss, and clear
        the local state of devices that were online after the backup.
        """;

    protected override Task<int> RunAsync(EmptyCommandSettings settings, CancellationToken cancellationToken)
    {
        Output.Line(Procedure);
        return Task.FromResult(ExitCodes.Success);
    }
}
