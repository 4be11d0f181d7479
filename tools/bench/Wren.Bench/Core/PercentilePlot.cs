using System.Globalization;
using ScottPlot;

namespace Wren.Bench.Core;

/// <summary>
/// A latency-by-percentile plot (PNG): x is the number of nines (0 = p0, 1 = p90, 2 = p99, 3 = p99.9 …), y is the
/// latency in ms on a log scale, one line per series.
/// </summary>
public static class PercentilePlot
{
    /// <summary>Writes the plot of <paramref name="series"/> (label, curve points of percentile and ms) to <paramref name="path"/>.</summary>
    public static void Save(string path, string title, IReadOnlyList<(string Label, IReadOnlyList<double[]> Points)> series)
    {
        ArgumentNullException.ThrowIfNull(series);
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel("percentile");
        plot.YLabel("latency (ms, log scale)");
        foreach (var (label, points) in series)
        {
            var usable = points.Where(p => p[0] < 100 && p[1] > 0).ToList();
            if (usable.Count == 0)
            {
                continue;
            }

            double[] xs = [.. usable.Select(p => Nines(p[0]))];
            double[] ys = [.. usable.Select(p => Math.Log10(p[1]))];
            var line = plot.Add.ScatterLine(xs, ys);
            line.LegendText = label;
            line.LineWidth = 2;
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            [0, 1, 2, 3, 4, 5], ["0", "90", "99", "99.9", "99.99", "99.999"]);
        var yTicks = new ScottPlot.TickGenerators.NumericManual();
        foreach (double ms in new[] { 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000 })
        {
            yTicks.AddMajor(Math.Log10(ms), ms.ToString(CultureInfo.InvariantCulture));
        }

        plot.Axes.Left.TickGenerator = yTicks;
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(path, 900, 500);
    }

    /// <summary>Nines of a percentile: -log10(1 - p/100).</summary>
    public static double Nines(double percentile) => -Math.Log10(1 - (percentile / 100));
}
