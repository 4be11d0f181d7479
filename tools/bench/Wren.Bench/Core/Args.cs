using System.Globalization;

namespace Wren.Bench.Core;

/// <summary>
/// Command-line arguments: a command word followed by <c>--name value</c> options and <c>--flag</c> switches.
/// Unknown or malformed options are errors, so a typo never silently runs the default.
/// </summary>
public sealed class Args
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    /// <summary>Parses <paramref name="args"/>; options listed in <paramref name="flags"/> take no value.</summary>
    public Args(IReadOnlyList<string> args, IReadOnlySet<string> flags)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(flags);
        int i = 0;
        if (args.Count > 0 && !args[0].StartsWith("--", StringComparison.Ordinal))
        {
            Command = args[0];
            i = 1;
        }

        for (; i < args.Count; i++)
        {
            string name = args[i];
            if (!name.StartsWith("--", StringComparison.Ordinal))
            {
                Positional.Add(name);
                continue;
            }

            name = name[2..];
            if (flags.Contains(name))
            {
                _values[name] = "true";
            }
            else if (i + 1 < args.Count)
            {
                _values[name] = args[++i];
            }
            else
            {
                throw new FormatException($"--{name} needs a value");
            }
        }
    }

    /// <summary>The command word (empty when none).</summary>
    public string Command { get; } = "";

    /// <summary>Arguments that are not options.</summary>
    public List<string> Positional { get; } = [];

    /// <summary>A string option.</summary>
    public string? String(string name)
    {
        _used.Add(name);
        return _values.TryGetValue(name, out var value) ? value : null;
    }

    /// <summary>An integer option (thousands may be written as 15k).</summary>
    public int Int(string name, int fallback) => String(name) is { } s ? (int)ParseNumber(s, name) : fallback;

    /// <summary>A number option.</summary>
    public double Double(string name, double fallback) => String(name) is { } s ? ParseNumber(s, name) : fallback;

    /// <summary>A switch.</summary>
    public bool Flag(string name) => String(name) == "true";

    /// <summary>Throws when an option was given that no code asked for.</summary>
    public void RejectUnknown()
    {
        var unknown = _values.Keys.Where(k => !_used.Contains(k)).ToList();
        if (unknown.Count > 0)
        {
            throw new FormatException("unknown option(s): " + string.Join(", ", unknown.Select(u => "--" + u)));
        }
    }

    /// <summary>Parses 1500, 1.5k or 2m.</summary>
    public static double ParseNumber(string text, string name)
    {
        ArgumentNullException.ThrowIfNull(text);
        double factor = 1;
        if (text.EndsWith('k') || text.EndsWith('K'))
        {
            factor = 1000;
            text = text[..^1];
        }
        else if (text.EndsWith('m') || text.EndsWith('M'))
        {
            factor = 1_000_000;
            text = text[..^1];
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value * factor
            : throw new FormatException($"--{name}: '{text}' is not a number");
    }
}
