using HdrHistogram;

namespace Wren.Bench.Core;

/// <summary>
/// Latencies in microseconds, recorded into one HdrHistogram per recording thread (no locks, no contention on the hot
/// path) and merged into one histogram at the end.
/// </summary>
/// <remarks>Record from any thread while the run lasts; call <see cref="Merge"/> only after recording has stopped.</remarks>
public sealed class LatencyRecorder : IDisposable
{
    /// <summary>Highest trackable latency: 10 minutes, far above any run.</summary>
    public const long HighestMicros = 600_000_000;

    private readonly ThreadLocal<LongHistogram> _perThread = new(NewHistogram, trackAllValues: true);

    /// <summary>Records one latency (clamped to [1, <see cref="HighestMicros"/>]).</summary>
    public void Record(long micros) => _perThread.Value!.RecordValue(Math.Clamp(micros, 1, HighestMicros));

    /// <summary>Adds every per-thread histogram into a new one.</summary>
    public LongHistogram Merge()
    {
        var merged = NewHistogram();
        foreach (var histogram in _perThread.Values)
        {
            merged.Add(histogram);
        }

        return merged;
    }

    /// <summary>A histogram with the recorder's range and 3 significant digits.</summary>
    public static LongHistogram NewHistogram() => new(1, HighestMicros, 3);

    /// <inheritdoc/>
    public void Dispose() => _perThread.Dispose();
}
