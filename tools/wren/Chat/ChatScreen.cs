using System.Text;
using Spectre.Console;

namespace Wren.Cli.Chat;

/// <summary>
/// Where the chat writes. Lines arrive from two sides (the user's commands, the broker's pushes); on an interactive
/// terminal each one is printed above the line being typed, which is then redrawn, so incoming messages never tear it.
/// </summary>
internal sealed class ChatScreen(CliOutput output, bool interactive)
{
    public const string Prompt = "> ";

    private readonly Lock _lock = new();
    private readonly StringBuilder _input = new();

    public CliOutput Output { get; } = output;

    /// <summary>True when keys are read one by one and the input line is drawn by the chat.</summary>
    public bool Interactive { get; } = interactive;

    /// <summary>Prints a line with Spectre markup (stripped when not on a terminal).</summary>
    public void Print(string markup)
    {
        lock (_lock)
        {
            if (!Interactive)
            {
                Output.Markup(markup);
                return;
            }

            ClearInputLine();
            Output.Markup(markup);
            DrawInputLine();
        }
    }

    /// <summary>Prints text as is (no markup).</summary>
    public void PrintText(string text) => Print(Markup.Escape(text));

    /// <summary>The line being typed (interactive mode).</summary>
    public string Input
    {
        get
        {
            lock (_lock)
            {
                return _input.ToString();
            }
        }
    }

    /// <summary>Adds a typed character and echoes it.</summary>
    public void Type(char c)
    {
        lock (_lock)
        {
            _input.Append(c);
            Output.Host.Out.Write(c);
            Output.Host.Out.Flush();
        }
    }

    /// <summary>Removes the last typed character.</summary>
    public void Backspace()
    {
        lock (_lock)
        {
            if (_input.Length > 0)
            {
                _input.Length--;
                Output.Host.Out.Write("\b \b");
                Output.Host.Out.Flush();
            }
        }
    }

    /// <summary>Takes the typed line and starts a new empty one.</summary>
    public string Submit()
    {
        lock (_lock)
        {
            string line = _input.ToString();
            _input.Clear();
            ClearInputLine();
            DrawInputLine();
            return line;
        }
    }

    /// <summary>Draws the prompt (interactive mode).</summary>
    public void ShowPrompt()
    {
        lock (_lock)
        {
            if (Interactive)
            {
                ClearInputLine();
                DrawInputLine();
            }
        }
    }

    /// <summary>Leaves the terminal on a clean line when the chat ends.</summary>
    public void Close()
    {
        lock (_lock)
        {
            if (Interactive)
            {
                ClearInputLine();
                Output.Host.Out.Flush();
            }
        }
    }

    private void ClearInputLine()
    {
        Output.Host.Out.Write("\r\u001b[2K");
    }

    private void DrawInputLine()
    {
        Output.Host.Out.Write(Prompt + _input);
        Output.Host.Out.Flush();
    }
}
