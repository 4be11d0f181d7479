namespace Wren.Bench.Core;

/// <summary>
/// Finds the highest sustainable rate: rates double from <see cref="StartRate"/> until one fails (or
/// <see cref="MaxRate"/> passes); when the start rate itself fails, rates halve until one passes (down to
/// <see cref="MinRate"/>). Then the interval between the highest passing and the lowest failing rate is bisected
/// <see cref="BisectSteps"/> times. A failing rate is tried up to <see cref="Attempts"/> times and passes if any attempt
/// does, since other work on a shared machine can spoil one window while a real limit fails every attempt.
/// </summary>
public sealed record RateSweep
{
    /// <summary>First rate tried.</summary>
    public int StartRate { get; init; } = 1000;

    /// <summary>Highest rate tried.</summary>
    public int MaxRate { get; init; } = 1_024_000;

    /// <summary>Lowest rate tried when the start rate fails (default: a sixteenth of the start rate).</summary>
    public int MinRate { get; init; }

    /// <summary>Bisection steps after the doubling phase.</summary>
    public int BisectSteps { get; init; } = 3;

    /// <summary>Attempts per rate before it counts as failed.</summary>
    public int Attempts { get; init; } = 2;

    /// <summary>
    /// Runs the search. <paramref name="tryRate"/> runs one window at a rate and says whether it passed.
    /// Returns the highest passing rate (0 if even the start rate failed) and every rate tried with its outcome.
    /// </summary>
    public async Task<(int MaxPassing, IReadOnlyList<(int Rate, bool Passed)> Trace)> RunAsync(Func<int, Task<bool>> tryRate)
    {
        ArgumentNullException.ThrowIfNull(tryRate);
        var trace = new List<(int, bool)>();
        async Task<bool> PassesAsync(int rate)
        {
            for (int attempt = 0; attempt < Math.Max(1, Attempts); attempt++)
            {
                bool passed = await tryRate(rate).ConfigureAwait(false);
                trace.Add((rate, passed));
                if (passed)
                {
                    return true;
                }
            }

            return false;
        }

        int pass = 0;
        int fail = 0;
        for (int rate = StartRate; ; rate = (int)Math.Min((long)rate * 2, MaxRate))
        {
            if (await PassesAsync(rate).ConfigureAwait(false))
            {
                pass = rate;
                if (rate >= MaxRate)
                {
                    return (pass, trace);
                }
            }
            else
            {
                fail = rate;
                break;
            }
        }

        if (pass == 0)
        {
            int floor = MinRate > 0 ? MinRate : Math.Max(1, StartRate / 16);
            for (int rate = fail / 2; rate >= floor; rate /= 2)
            {
                if (await PassesAsync(rate).ConfigureAwait(false))
                {
                    pass = rate;
                    break;
                }

                fail = rate;
            }

            if (pass == 0)
            {
                return (0, trace);
            }
        }

        for (int step = 0; step < BisectSteps; step++)
        {
            int mid = pass + ((fail - pass) / 2);
            if (mid <= pass || mid >= fail)
            {
                break;
            }

            if (await PassesAsync(mid).ConfigureAwait(false))
            {
                pass = mid;
            }
            else
            {
                fail = mid;
            }
        }

        return (pass, trace);
    }
}
