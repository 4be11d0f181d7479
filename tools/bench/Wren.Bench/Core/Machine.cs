using System.Globalization;
using System.Runtime.InteropServices;

namespace Wren.Bench.Core;

/// <summary>A one-line description of the machine a report was measured on.</summary>
public static class Machine
{
    /// <summary>Cores, CPU model, OS, .NET runtime and the load average when called.</summary>
    public static string Describe()
    {
        string cpu = Read("/proc/cpuinfo").Split('\n').FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        string os = Read("/etc/os-release").Split('\n').FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?["PRETTY_NAME=".Length..].Trim('"') ?? RuntimeInformation.OSDescription;
        string load = string.Join(' ', Read("/proc/loadavg").Split(' ').Take(3));
        return string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessorCount} cores ({cpu}), {os}, {RuntimeInformation.FrameworkDescription}, load average at start {load}");
    }

    private static string Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return "";
        }
    }
}
