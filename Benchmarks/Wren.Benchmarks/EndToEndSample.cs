using System.Diagnostics;
using Wren.Storage;

namespace Wren.Benchmarks;

/// <summary>Process and store counters at one instant; the difference of two gives a window's resource use.</summary>
public readonly record struct EndToEndSample(
    long Timestamp, TimeSpan Cpu, TimeSpan MachineBusy, long AllocatedBytes, int Gen0, int Gen1, int Gen2, TimeSpan GcPause, long Batches, long BatchedAppends)
{
    /// <summary>Clock ticks per second of /proc/stat (USER_HZ, 100 on Linux).</summary>
    private const double UserHz = 100;

    public static EndToEndSample Take(WrenStore store)
    {
        var statistics = store.GetStatistics();
        using var process = Process.GetCurrentProcess();
        return new EndToEndSample(
            Stopwatch.GetTimestamp(),
            process.TotalProcessorTime,
            ReadMachineBusy(),
            GC.GetTotalAllocatedBytes(precise: false),
            GC.CollectionCount(0),
            GC.CollectionCount(1),
            GC.CollectionCount(2),
            GC.GetTotalPauseDuration(),
            statistics.Batches,
            statistics.BatchedAppends);
    }

    /// <summary>Takes a sample at <paramref name="start"/> and one at <paramref name="end"/> (Stopwatch timestamps).</summary>
    public static async Task<(EndToEndSample Before, EndToEndSample After)> MeasureWindowAsync(WrenStore store, long start, long end)
    {
        await DelayUntilAsync(start).ConfigureAwait(false);
        var before = Take(store);
        await DelayUntilAsync(end).ConfigureAwait(false);
        return (before, Take(store));
    }

    /// <summary>CPU time all processes have used since boot (Linux /proc/stat: everything but idle and iowait), or zero.</summary>
    private static TimeSpan ReadMachineBusy()
    {
        if (!File.Exists("/proc/stat"))
        {
            return TimeSpan.Zero;
        }

        // "cpu  user nice system idle iowait irq softirq steal guest guest_nice"; guest time is already in user.
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..].Select(long.Parse).ToArray();
        long busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7];
        return TimeSpan.FromSeconds(busy / UserHz);
    }

    private static async Task DelayUntilAsync(long timestamp)
    {
        long wait = timestamp - Stopwatch.GetTimestamp();
        if (wait > 0)
        {
            await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency)).ConfigureAwait(false);
        }
    }
}
