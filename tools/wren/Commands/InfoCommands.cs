using System.ComponentModel;
using Spectre.Console.Cli;
using Wren.Cli.Connection;
using Wren.Client;

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

internal sealed class BackupSettings : ConnectionSettings
{
    [CommandOption("--to <DIR>")]
    [Description("New directory for the checkpoint, on the broker's host; must not exist yet. Required.")]
    public string? To { get; init; }

    public override Spectre.Console.ValidationResult Validate() =>
        string.IsNullOrWhiteSpace(To)
            ? Spectre.Console.ValidationResult.Error("--to DIR is required (a new directory on the broker's host for the checkpoint)")
            : base.Validate();
}

/// <summary>
/// <c>wren backup --to DIR</c>: the running broker writes a consistent checkpoint of its store into DIR, a new
/// directory on the broker's host (admin token); then prints how to restore from it.
/// </summary>
internal sealed class BackupCommand(CliOutput output) : ConnectedCommand<BackupSettings>(output)
{
    /// <summary>How to restore the store from the checkpoint in <paramref name="checkpoint"/>.</summary>
    public static string RestoreProcedure(string checkpoint) => $"""
        To restore from this checkpoint (see docs/operations.md, "Backup and restore"):

          1. Stop the broker (Ctrl+C, or SIGTERM): it flushes and closes its storage.
          2. Move the current store aside (do not merge directories):
               mv data/db data/db.before-restore
          3. Put the checkpoint in its place:
               cp -a {checkpoint} data/db
          4. Start the broker (./run.sh).

        The checkpoint holds the store only (messages, users, tokens, cursors); keep data/dev-cert.pfx
        and data/admin.token as they are. Keep the checkpoint as private as the data directory.
        """;

    protected override TokenUse TokenUse => TokenUse.Admin;

    protected override async Task<int> RunAsync(WrenClient client, BackupSettings settings, CancellationToken cancellationToken)
    {
        // Administration runs on the broker's host (loopback), so a relative DIR is resolved here.
        string target = Host.ResolvePath(settings.To!);
        await client.AdminCheckpointAsync(target, cancellationToken).ConfigureAwait(false);
        Output.Line($"wrote a checkpoint of the broker's store to {target} (on the broker's host)");
        Output.Line();
        Output.Line(RestoreProcedure(target));
        return ExitCodes.Success;
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
