using System.Globalization;

namespace Wren.Cli;

/// <summary>Durations and sizes as people type and read them: 30d, 12h, 45m, 90s; 1.2 GiB.</summary>
internal static class Durations
{
    /// <summary>Parses "30d", "12h", "45m", "90s", "2w" or bare seconds; the result fits the wire's u32 seconds.</summary>
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = default;
        string trimmed = text.Trim().ToLowerInvariant();
        if (trimmed.Length == 0)
        {
            return false;
        }

        long unit = trimmed[^1] switch
        {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => 0,
        };
        string number = unit == 0 ? trimmed : trimmed[..^1];
        if (!long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out long amount) || amount > uint.MaxValue)
        {
            return false;
        }

        long seconds = amount * Math.Max(unit, 1);
        if (seconds > uint.MaxValue)
        {
            return false;
        }

        value = TimeSpan.FromSeconds(seconds);
        return true;
    }

    public static TimeSpan Parse(string text) =>
        TryParse(text, out var value) ? value : throw CliException.Usage($"'{text}' is not a duration");

    /// <summary>"3d 4h", "2h 5m", "12m 3s", "850 ms".</summary>
    public static string Format(TimeSpan value) => value switch
    {
        { TotalDays: >= 1 } => $"{(int)value.TotalDays}d {value.Hours}h",
        { TotalHours: >= 1 } => $"{value.Hours}h {value.Minutes}m",
        { TotalMinutes: >= 1 } => $"{value.Minutes}m {value.Seconds}s",
        { TotalSeconds: >= 1 } => string.Create(CultureInfo.InvariantCulture, $"{value.TotalSeconds:0.#} s"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{value.TotalMilliseconds:0} ms"),
    };

    /// <summary>"512 B", "3.4 MiB".</summary>
    public static string Bytes(ulong bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{value:0.#} {units[unit]}");
    }
}
