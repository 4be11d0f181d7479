using Spectre.Console;
using Wren.Cli.Connection;
using Wren.Cli.Doctor;

namespace Wren.Cli.Commands;

/// <summary><c>wren doctor</c>: checks connectivity, TLS, protocol, clock skew and authentication, with what to do about each problem.</summary>
internal sealed class DoctorCommand(CliOutput output) : WrenCommand<JsonConnectionSettings>(output)
{
    protected override async Task<int> RunAsync(JsonConnectionSettings settings, CancellationToken cancellationToken)
    {
        var connection = ConnectionResolver.Resolve(settings, Host, TokenUse.Optional);
        var checks = await new DoctorRunner(connection).RunAsync(cancellationToken).ConfigureAwait(false);
        if (settings.Json)
        {
            Output.Json(checks.Select(c => new { Check = c.Name, Status = c.Status.ToString().ToLowerInvariant(), c.Detail, c.Fix }));
            return DoctorRunner.ExitCode(checks);
        }

        Output.Line($"broker {connection.Server} ({(connection.UseTls ? "TLS" : "plaintext")}), fingerprint pin from {connection.FingerprintOrigin}, token from {connection.TokenOrigin}");
        foreach (var check in checks)
        {
            string status = check.Status switch
            {
                CheckStatus.Ok => "[green]ok  [/]",
                CheckStatus.Warning => "[yellow]warn[/]",
                CheckStatus.Failed => "[red]FAIL[/]",
                _ => "[grey]skip[/]",
            };
            Output.Markup($"{status}  {Markup.Escape(check.Name.PadRight(11))} {Markup.Escape(check.Detail)}");
            if (check.Fix is not null && check.Status is CheckStatus.Failed or CheckStatus.Warning or CheckStatus.Skipped)
            {
                Output.Markup($"      {new string(' ', 11)} [grey]→ {Markup.Escape(check.Fix)}[/]");
            }
        }

        int code = DoctorRunner.ExitCode(checks);
        Output.Markup(code == 0 ? "[green]no problems found[/]" : "[red]problems found (see FAIL above)[/]");
        return code;
    }
}
