using HdrHistogram;

namespace Wren.Bench.Core;

/// <summary>Percentiles of one latency histogram, in milliseconds.</summary>
public sealed record LatencySummary
{
    /// <summary>Values recorded.</summary>
    public long Count { get; init; }

    /// <summary>Median.</summary>
    public double P50 { get; init; }

    /// <summary>90th percentile.</summary>
    public double P90 { get; init; }

    /// <summary>99th percentile.</summary>
    public double P99 { get; init; }

    /// <summary>99.9th percentile.</summary>
    public double P999 { get; init; }

    /// <summary>Largest value.</summary>
    public double Max { get; init; }

    /// <summary>Summarises a histogram of microseconds; an empty histogram gives zeros.</summary>
    public static LatencySummary From(HistogramBase histogram)
    {
        if (histogram.TotalCount == 0)
        {
            return new LatencySummary();
        }

        return new LatencySummary
        {
            Count = histogram.TotalCount,
            P50 = Ms(histogram.GetValueAtPercentile(50)),
            P90 = Ms(histogram.GetValueAtPercentile(90)),
            P99 = Ms(histogram.GetValueAtPercentile(99)),
            P999 = Ms(histogram.GetValueAtPercentile(99.9)),
            Max = Ms(histogram.GetMaxValue()),
        };
    }

    /// <summary>
    /// Points of the percentile curve (percentile, ms) for a plot: percentiles 0, 50, 75, 87.5, … approaching 100 in
    /// halving steps, up to <paramref name="maxNines"/> nines, plus the maximum.
    /// </summary>
    public static IReadOnlyList<(double Percentile, double Ms)> Curve(HistogramBase histogram, int maxNines = 5)
    {
        var points = new List<(double, double)>();
        if (histogram.TotalCount == 0)
        {
            return points;
        }

        double limit = 100 - Math.Pow(10, 2 - maxNines);
        for (double missing = 100; 100 - missing <= limit; missing /= 2)
        {
            double p = 100 - missing;
            points.Add((p, Ms(histogram.GetValueAtPercentile(p))));
        }

        points.Add((limit, Ms(histogram.GetValueAtPercentile(limit))));
        return points;
    }

    private static double Ms(long micros) => micros / 1000.0;
}
