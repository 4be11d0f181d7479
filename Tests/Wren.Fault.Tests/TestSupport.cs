using System.Reflection;
using Xunit.Abstractions;

namespace Wren.Fault.Tests;

/// <summary>Shared by the scenario tests: the built broker's path and a writer that forwards to the test output.</summary>
internal static class TestSupport
{
    /// <summary>The broker built with the tests (see the BrokerPath metadata in the project file).</summary>
    public static string BrokerPath()
    {
        var built = typeof(TestSupport).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "BrokerPath")?.Value;
        var path = built is null ? null : Path.GetFullPath(built);
        return path is not null && File.Exists(path)
            ? path
            : throw new FileNotFoundException("The broker is not built; build Tests/Wren.Fault.Tests. Looked in: " + path);
    }

    /// <summary>Writes a report and its problem and broker lines to the test output.</summary>
    public static void Print(ITestOutputHelper output, string report, IEnumerable<string> problems, IEnumerable<string> brokerLines)
    {
        output.WriteLine(report);
        foreach (var problem in problems)
        {
            output.WriteLine("problem: " + problem);
        }

        foreach (var line in brokerLines)
        {
            output.WriteLine("broker: " + line);
        }
    }
}

/// <summary>Forwards progress lines to the test output (ignored once the test has finished).</summary>
internal sealed class TestOutputWriter(ITestOutputHelper output) : StringWriter
{
    public override void WriteLine(string? value)
    {
        try
        {
            output.WriteLine(value ?? "");
        }
        catch (InvalidOperationException)
        {
            // The test already finished.
        }
    }
}
