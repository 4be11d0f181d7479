namespace Wren.Cli.Chat;

/// <summary>Where the chat's lines come from.</summary>
internal interface IChatInput
{
    /// <summary>The next line, or null at end of input.</summary>
    Task<string?> ReadLineAsync(CancellationToken cancellationToken);
}

/// <summary>Lines from a reader: redirected standard input, a pipe, or a test.</summary>
internal sealed class LineInput(TextReader reader) : IChatInput
{
    public async Task<string?> ReadLineAsync(CancellationToken cancellationToken) =>
        await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false);
}

/// <summary>
/// Keys from the console, one at a time, so the chat can tell the other members when this user starts and stops
/// typing and can redraw the line being typed around incoming messages.
/// </summary>
internal sealed class KeyInput(ChatScreen screen, Func<bool, Task> typing) : IChatInput
{
    public async Task<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            // Console.ReadKey blocks; it runs on a pool thread so cancellation and incoming messages are not held up.
            var key = await Task.Run(() => Console.ReadKey(intercept: true), CancellationToken.None).WaitAsync(cancellationToken).ConfigureAwait(false);
            switch (key.Key)
            {
                case ConsoleKey.Enter:
                    string line = screen.Submit();
                    await typing(false).ConfigureAwait(false);
                    return line;
                case ConsoleKey.Backspace:
                    screen.Backspace();
                    if (screen.Input.Length == 0)
                    {
                        await typing(false).ConfigureAwait(false);
                    }

                    break;
                case ConsoleKey.D when key.Modifiers.HasFlag(ConsoleModifiers.Control):
                    return screen.Input.Length == 0 ? null : screen.Submit();
                default:
                    if (!char.IsControl(key.KeyChar))
                    {
                        screen.Type(key.KeyChar);
                        await typing(true).ConfigureAwait(false);
                    }

                    break;
            }
        }
    }
}
