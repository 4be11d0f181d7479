using Wren.Cli;

// Ctrl+C cancels the running command, which then ends cleanly (a chat waits for its unconfirmed sends, `tail --follow`
// exits 0); a second Ctrl+C ends the process at once.
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    if (!cancel.IsCancellationRequested)
    {
        e.Cancel = true;
        cancel.Cancel();
    }
};

return await WrenCli.RunAsync(args, CliHost.FromProcess(Console.Out, Console.Error, cancel.Token)).ConfigureAwait(false);
