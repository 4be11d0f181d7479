using System.Text.Json;
using BenchmarkDotNet.Analysers;
using BenchmarkDotNet.Reports;

namespace Wren.Benchmarks;

/// <summary>
/// Checks measured allocations against the budgets checked in as <c>allocation-budget.json</c> next to the project.
/// </summary>
/// <remarks>
/// A budget is keyed <c>ClassName.MethodName</c> and applies to every parameter case of that benchmark. A case over
/// budget, a budgeted case with no allocation data (no memory diagnoser, or the case failed), a budget naming a method
/// that does not exist in a class that ran, or a missing budget file each yield an error in the summary and set the
/// process exit code to 1, so a scripted run fails. Benchmarks without a budget are not checked.
/// </remarks>
public sealed class ProtocolAllocationBudget : IAnalyser
{
    /// <summary>Name of the budget file.</summary>
    public const string FileName = "allocation-budget.json";

    /// <inheritdoc/>
    public string Id => "AllocationBudget";

    /// <inheritdoc/>
    public IEnumerable<Conclusion> Analyse(Summary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var conclusions = new List<Conclusion>();
        string? path = FindBudgetFile();
        if (path is null)
        {
            conclusions.Add(Conclusion.CreateError(Id, $"{FileName} not found in {AppContext.BaseDirectory} or its parents; allocations not checked."));
            Environment.ExitCode = 1;
            return conclusions;
        }

        var budgets = Load(path);
        var ran = new HashSet<string>(StringComparer.Ordinal);
        var classes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var benchmark in summary.BenchmarksCases)
        {
            classes.Add(benchmark.Descriptor.Type.Name);
            ran.Add(Key(benchmark.Descriptor.Type.Name, benchmark.Descriptor.WorkloadMethod.Name));
        }

        foreach (var (key, budget) in budgets)
        {
            string className = key[..Math.Max(0, key.IndexOf('.', StringComparison.Ordinal))];
            if (classes.Contains(className) && !ran.Contains(key))
            {
                // With a --filter that selects part of a class this is also reported: budgets name whole benchmarks.
                conclusions.Add(Conclusion.CreateWarning(Id, $"{key}: budgeted ({budget} B/op) but did not run."));
            }
        }

        foreach (var benchmark in summary.BenchmarksCases)
        {
            string key = Key(benchmark.Descriptor.Type.Name, benchmark.Descriptor.WorkloadMethod.Name);
            if (!budgets.TryGetValue(key, out long budget))
            {
                continue;
            }

            // The report names the class, method and job; the parameters tell the cases apart.
            string parameters = benchmark.HasParameters ? benchmark.Parameters.DisplayInfo + " " : "";
            var report = summary[benchmark];
            long? allocated = report is { Success: true } ? report.GcStats.GetBytesAllocatedPerOperation(benchmark) : null;
            if (allocated is null)
            {
                conclusions.Add(Conclusion.CreateError(Id, $"{parameters}no allocation data (failed, or no memory diagnoser); budget is {budget} B/op.", report));
            }
            else if (allocated > budget)
            {
                conclusions.Add(Conclusion.CreateError(Id, $"{parameters}allocated {allocated} B/op, budget {budget} B/op.", report));
            }
        }

        if (conclusions.Exists(c => c.Kind == ConclusionKind.Error))
        {
            Environment.ExitCode = 1;
        }

        return conclusions;
    }

    private static string Key(string className, string methodName) => className + "." + methodName;

    private static Dictionary<string, long> Load(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var budgets = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var entry in document.RootElement.GetProperty("budgets").EnumerateObject())
        {
            budgets[entry.Name] = entry.Value.GetInt64();
        }

        return budgets;
    }

    // The analyser runs in the host process (bin/<configuration>/<framework>/), so the file is found either copied
    // next to the assembly or in the project directory a few levels up.
    private static string? FindBudgetFile()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, FileName);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
