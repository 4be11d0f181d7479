using System.Globalization;

namespace Wren.Bench.Core;

/// <summary>CPU time and resident memory of another process, read from /proc (Linux).</summary>
public readonly record struct ProcessStats(TimeSpan Cpu, long RssBytes)
{
    /// <summary>Clock ticks per second of /proc/&lt;pid&gt;/stat times (USER_HZ, 100 on Linux).</summary>
    public const int ClockTicksPerSecond = 100;

    /// <summary>Reads the process's stats; null when the process is gone or /proc is unavailable.</summary>
    public static ProcessStats? Read(int pid)
    {
        try
        {
            var cpu = ParseCpu(File.ReadAllText($"/proc/{pid}/stat"));
            var rss = ParseRssBytes(File.ReadAllText($"/proc/{pid}/status"));
            return new ProcessStats(cpu, rss);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>
    /// utime + stime from the text of /proc/&lt;pid&gt;/stat. The command name (field 2) may hold spaces and
    /// parentheses, so fields are counted from the last ')': state is field 3, utime 14, stime 15.
    /// </summary>
    public static TimeSpan ParseCpu(string stat)
    {
        ArgumentNullException.ThrowIfNull(stat);
        int close = stat.LastIndexOf(')');
        if (close < 0)
        {
            throw new FormatException("No command name in /proc stat text.");
        }

        var fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // fields[0] is field 3 (state), so field n is fields[n - 3].
        long utime = long.Parse(fields[14 - 3], CultureInfo.InvariantCulture);
        long stime = long.Parse(fields[15 - 3], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds((utime + stime) / (double)ClockTicksPerSecond);
    }

    /// <summary>VmRSS from the text of /proc/&lt;pid&gt;/status, in bytes.</summary>
    public static long ParseRssBytes(string status)
    {
        ArgumentNullException.ThrowIfNull(status);
        foreach (var line in status.Split('\n'))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                var parts = line["VmRSS:".Length..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new FormatException("No VmRSS line in /proc status text.");
    }

    /// <summary>Busy time of the whole machine (all cores) since boot, from /proc/stat; null when unavailable.</summary>
    public static TimeSpan? ReadMachineBusy()
    {
        try
        {
            return ParseMachineBusy(File.ReadAllText("/proc/stat"));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>
    /// Busy time from the text of /proc/stat: the first line's user, nice, system, irq, softirq and steal ticks
    /// (everything but idle and iowait).
    /// </summary>
    public static TimeSpan ParseMachineBusy(string stat)
    {
        ArgumentNullException.ThrowIfNull(stat);
        var line = stat.Split('\n')[0];
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 9 || fields[0] != "cpu")
        {
            throw new FormatException("No cpu line in /proc/stat text.");
        }

        long busy = 0;
        foreach (int i in new[] { 1, 2, 3, 6, 7, 8 })
        {
            busy += long.Parse(fields[i], CultureInfo.InvariantCulture);
        }

        return TimeSpan.FromSeconds(busy / (double)ClockTicksPerSecond);
    }

    /// <summary>Busy cores between two samples taken <paramref name="seconds"/> apart.</summary>
    public static double Cores(ProcessStats? before, ProcessStats? after, double seconds) =>
        before is { } b && after is { } a && seconds > 0 ? (a.Cpu - b.Cpu).TotalSeconds / seconds : double.NaN;
}
