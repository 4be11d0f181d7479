using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;

namespace Wren.Cli;

/// <summary>
/// Writes results: Spectre tables and colours when standard output is a terminal, aligned plain text when it is not
/// (pipes, files, tests), JSON when asked. Errors and progress go to standard error.
/// </summary>
internal sealed class CliOutput
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    private static readonly JsonSerializerOptions JsonLineOptions = new(JsonOptions) { WriteIndented = false };

    private readonly Lock _lock = new();

    public CliOutput(CliHost host)
    {
        Host = host;
        IsTerminal = host.OutputIsTerminal;
        bool color = IsTerminal && host.GetVariable("NO_COLOR") is null;
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(host.Out),
            Ansi = IsTerminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = color ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = IsTerminal && host.InputIsTerminal ? InteractionSupport.Yes : InteractionSupport.No,
        });
    }

    public CliHost Host { get; }

    /// <summary>Set when a command's body starts (as opposed to Spectre printing help or a usage error).</summary>
    public bool CommandStarted { get; set; }

    /// <summary>True when results are rendered for a person (tables, colours).</summary>
    public bool IsTerminal { get; }

    /// <summary>The Spectre console over standard output (help text, terminal rendering).</summary>
    public IAnsiConsole Console { get; }

    /// <summary>A line of plain text.</summary>
    public void Line(string text = "")
    {
        lock (_lock)
        {
            Host.Out.WriteLine(text);
            Host.Out.Flush();
        }
    }

    /// <summary>A line with Spectre markup; the markup is stripped when not on a terminal.</summary>
    public void Markup(string markup)
    {
        lock (_lock)
        {
            if (IsTerminal)
            {
                Console.MarkupLine(markup);
            }
            else
            {
                Host.Out.WriteLine(Spectre.Console.Markup.Remove(markup));
                Host.Out.Flush();
            }
        }
    }

    /// <summary>A note for the person at the terminal (progress, hints), on standard error so it never mixes with results.</summary>
    public void Note(string text)
    {
        lock (_lock)
        {
            Host.Error.WriteLine(text);
            Host.Error.Flush();
        }
    }

    /// <summary>A table: boxed and coloured on a terminal, whitespace-aligned columns otherwise.</summary>
    public void Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows, string? title = null)
    {
        var materialized = rows.ToList();
        lock (_lock)
        {
            if (IsTerminal)
            {
                var table = new Table().RoundedBorder();
                if (title is not null)
                {
                    table.Title(Spectre.Console.Markup.Escape(title));
                }

                foreach (var header in headers)
                {
                    table.AddColumn(new TableColumn($"[bold]{Spectre.Console.Markup.Escape(header)}[/]"));
                }

                foreach (var row in materialized)
                {
                    table.AddRow([.. row.Select(Spectre.Console.Markup.Escape)]);
                }

                Console.Write(table);
                return;
            }

            if (title is not null)
            {
                Host.Out.WriteLine(title);
            }

            var widths = headers.Select((h, i) => Math.Max(h.Length, materialized.Count == 0 ? 0 : materialized.Max(r => i < r.Count ? r[i].Length : 0))).ToArray();
            WritePlainRow(headers, widths);
            foreach (var row in materialized)
            {
                WritePlainRow(row, widths);
            }

            Host.Out.Flush();
        }
    }

    /// <summary>A value as indented JSON (snake_case names), for scripts.</summary>
    public void Json<T>(T value)
    {
        lock (_lock)
        {
            Host.Out.WriteLine(JsonSerializer.Serialize(value, JsonOptions));
            Host.Out.Flush();
        }
    }

    /// <summary>A value as one line of JSON (JSON Lines), for streams such as <c>wren tail --follow</c>.</summary>
    public void JsonLine<T>(T value)
    {
        lock (_lock)
        {
            Host.Out.WriteLine(JsonSerializer.Serialize(value, JsonLineOptions));
            Host.Out.Flush();
        }
    }

    private void WritePlainRow(IReadOnlyList<string> cells, int[] widths)
    {
        for (int i = 0; i < widths.Length; i++)
        {
            string cell = i < cells.Count ? cells[i] : "";
            Host.Out.Write(i == widths.Length - 1 ? cell : cell.PadRight(widths[i] + 2));
        }

        Host.Out.WriteLine();
    }
}
