using System.Collections;

namespace Wren.Cli;

/// <summary>
/// What one invocation of the CLI reads and writes: standard streams, environment variables, working directory and
/// cancellation. <see cref="WrenCli.RunAsync(string[], TextWriter, TextWriter)"/> uses the process's; tests pass their own.
/// </summary>
public sealed class CliHost
{
    /// <summary>Standard output: results (tables, JSON, tokens).</summary>
    public TextWriter Out { get; init; } = TextWriter.Null;

    /// <summary>Standard error: errors and progress notes, never results.</summary>
    public TextWriter Error { get; init; } = TextWriter.Null;

    /// <summary>Standard input (chat lines, <c>wren send ... -</c>).</summary>
    public TextReader In { get; init; } = TextReader.Null;

    /// <summary>True when <see cref="Out"/> is a terminal: tables and colours; otherwise plain text.</summary>
    public bool OutputIsTerminal { get; init; }

    /// <summary>True when <see cref="In"/> is a terminal: chat reads keys (and sends typing notifications) instead of lines.</summary>
    public bool InputIsTerminal { get; init; }

    /// <summary>Environment variables (WREN_SERVER, WREN_TOKEN, WREN_FINGERPRINT, NO_COLOR).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Directory that relative paths (<c>--data-dir</c>, <c>--token-file</c>, the default <c>./data</c>) are resolved against.</summary>
    public string WorkingDirectory { get; init; } = Directory.GetCurrentDirectory();

    /// <summary>Cancels the running command (Ctrl+C).</summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>The host of the running process: console streams, process environment, current directory.</summary>
    public static CliHost FromProcess(TextWriter output, TextWriter error, CancellationToken cancellation) => new()
    {
        Out = output,
        Error = error,
        In = Console.In,
        OutputIsTerminal = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected,
        InputIsTerminal = !Console.IsInputRedirected,
        Environment = ProcessEnvironment(),
        WorkingDirectory = Directory.GetCurrentDirectory(),
        Cancellation = cancellation,
    };

    /// <summary>An environment variable, or null when unset or empty.</summary>
    public string? GetVariable(string name) =>
        Environment.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value : null;

    /// <summary>A path relative to <see cref="WorkingDirectory"/> made absolute.</summary>
    public string ResolvePath(string path) => Path.GetFullPath(path, WorkingDirectory);

    private static Dictionary<string, string> ProcessEnvironment()
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in System.Environment.GetEnvironmentVariables())
        {
            if (entry.Key is string key && entry.Value is string value)
            {
                variables[key] = value;
            }
        }

        return variables;
    }
}
