using BenchmarkDotNet.Running;

namespace Wren.Benchmarks;

/// <summary>
/// Entry point: <c>dotnet run -c Release --project Benchmarks/Wren.Benchmarks -- --filter '*'</c>, or
/// <c>-- e2e [options]</c> for the in-process end-to-end load driver (<see cref="EndToEndDriver"/>).
/// </summary>
public static class Program
{
    /// <summary>Runs the end-to-end driver when the first argument is <c>e2e</c>, else the benchmarks selected on the command line.</summary>
    public static void Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "e2e")
        {
            Environment.ExitCode = EndToEndDriver.RunAsync(args[1..]).GetAwaiter().GetResult();
            return;
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
