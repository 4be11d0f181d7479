namespace Wren.Bench.Core;

/// <summary>Which of a W3 run's replays is reported.</summary>
public static class ReplayChoice
{
    /// <summary>
    /// The index of the reported replay, given each replay's rate in order. One replay: that one. Two: the second (the
    /// first warms the server and client: JIT, caches). Three or more: the median, by rate, of all but the first (the
    /// lower middle one of an even count; equal rates keep their order, the sort being stable), so that one garbage collection or scheduling gap in a 0.1-0.3 s replay does
    /// not move the figure.
    /// </summary>
    public static int ReportedIndex(IReadOnlyList<double> rates)
    {
        ArgumentNullException.ThrowIfNull(rates);
        ArgumentOutOfRangeException.ThrowIfZero(rates.Count);
        if (rates.Count <= 2)
        {
            return rates.Count - 1;
        }

        var warm = Enumerable.Range(1, rates.Count - 1).OrderBy(i => rates[i]).ToList();
        return warm[(warm.Count - 1) / 2];
    }
}
