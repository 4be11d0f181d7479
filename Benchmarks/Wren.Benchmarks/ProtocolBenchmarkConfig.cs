using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using Perfolizer.Horology;

namespace Wren.Benchmarks;

/// <summary>
/// Shared configuration of the protocol benchmarks: a short job so the suite runs in minutes on a 2-core machine,
/// allocation measurement, one baseline per category, and the allocation budget check.
/// </summary>
/// <remarks>
/// Few iterations make absolute times noisy on a shared machine; read the Ratio column (against a baseline measured
/// in the same run) and the Allocated column (deterministic) rather than comparing Mean across runs.
/// </remarks>
public sealed class ProtocolBenchmarkConfig : ManualConfig
{
    /// <summary>Creates the configuration.</summary>
    public ProtocolBenchmarkConfig()
    {
        AddJob(Job.Default
            .WithId("Short")
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(5)
            .WithIterationTime(TimeInterval.FromMilliseconds(250)));
        AddDiagnoser(MemoryDiagnoser.Default);
        AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams);
        AddAnalyser(new ProtocolAllocationBudget());
    }
}
