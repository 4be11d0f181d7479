using Wren.Cli.Connection;
using Wren.Cli.Demo;
using Wren.Client;
using Wren.Protocol;

namespace Wren.Cli.Commands;

/// <summary>
/// <c>wren demo</c>: against a running broker, with an administrator token, runs the multi-device scenario and prints
/// the proof; exits 1 when any device's history differs from the log or has a gap.
/// </summary>
internal sealed class DemoCommand(CliOutput output) : WrenCommand<JsonConnectionSettings>(output)
{
    protected override async Task<int> RunAsync(JsonConnectionSettings settings, CancellationToken cancellationToken)
    {
        var connection = ConnectionResolver.Resolve(settings, Host, TokenUse.Admin);
        Action<string> step = settings.Json ? Output.Note : text => Output.Markup("[grey]•[/] " + Spectre.Console.Markup.Escape(text));
        DemoOutcome outcome;
        try
        {
            outcome = await new DemoRunner(connection, step).RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (WrenClientException ex) when (ex.Code == ErrorCode.Forbidden)
        {
            throw Failures.AdminRefused(connection);
        }

        var proof = outcome.Proof;
        if (settings.Json)
        {
            Output.Json(new
            {
                Users = new[] { outcome.Alice, outcome.Bob },
                Conversations = outcome.Heads.Select(h => new { Name = h.Key, Head = h.Value }),
                Devices = proof.Rows,
                outcome.DuplicateAcks,
                proof.Passed,
            });
        }
        else
        {
            Output.Line();
            Output.Table(
                ["device", "conversation", "messages", "last seq", "gap-free", "identical to the log"],
                proof.Rows.Select(r => (IReadOnlyList<string>)[r.Device, r.Conversation, r.Messages.ToString(System.Globalization.CultureInfo.InvariantCulture), r.LastSeq.ToString(System.Globalization.CultureInfo.InvariantCulture), r.GapFree ? "yes" : "NO", r.Identical ? "yes" : "NO"]));
            string logs = string.Join(", ", outcome.Heads.Select(h => $"{h.Key}: {h.Value} messages"));
            Output.Markup(proof.Passed
                ? $"[green]proof: all 5 devices hold identical, gap-free histories of both conversations ({logs})[/]"
                : $"[red]proof FAILED: at least one device's history differs from the log or has a gap ({logs})[/]");
        }

        return proof.Passed ? ExitCodes.Success : ExitCodes.OperationFailed;
    }
}
