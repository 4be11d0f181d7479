namespace Wren.Broker.Core;

/// <summary>
/// Token buckets keyed by user, address or any other key, shared by every session: sends per user across all of the
/// user's devices, conversation creation per user, connections per address. Thread-safe; keys are spread over
/// striped locks so unrelated keys rarely contend.
/// </summary>
/// <typeparam name="TKey">The key (a user id, an address).</typeparam>
/// <remarks>
/// A stripe drops buckets that have refilled completely once it holds more than a few thousand keys, so memory stays
/// bounded by the number of keys active within one refill period.
/// </remarks>
public sealed class KeyedRateLimiter<TKey>
    where TKey : notnull
{
    private const int Stripes = 64;
    private const int PruneAbove = 4096;

    private readonly Stripe[] _stripes;
    private readonly double _ratePerSecond;
    private readonly int _burst;

    /// <summary>Creates a limiter of <paramref name="ratePerSecond"/> with bursts of <paramref name="burst"/>; a rate of 0 or less disables it.</summary>
    public KeyedRateLimiter(double ratePerSecond, int burst)
    {
        _ratePerSecond = ratePerSecond;
        _burst = Math.Max(1, burst);
        _stripes = new Stripe[Stripes];
        for (int i = 0; i < Stripes; i++)
        {
            _stripes[i] = new Stripe();
        }
    }

    /// <summary>True when the limiter limits anything.</summary>
    public bool Enabled => _ratePerSecond > 0;

    /// <summary>Takes a token for <paramref name="key"/>. Returns 0 on success, or the milliseconds until one is available.</summary>
    public uint TryTake(TKey key, long nowMs)
    {
        if (!Enabled)
        {
            return 0;
        }

        var stripe = _stripes[(key.GetHashCode() & int.MaxValue) % Stripes];
        lock (stripe)
        {
            if (!stripe.Buckets.TryGetValue(key, out var bucket))
            {
                if (stripe.Buckets.Count >= PruneAbove)
                {
                    Prune(stripe, nowMs);
                }

                bucket = new TokenBucket(_ratePerSecond, _burst, nowMs);
                stripe.Buckets[key] = bucket;
            }

            return bucket.TryTake(nowMs);
        }
    }

    private static void Prune(Stripe stripe, long nowMs)
    {
        var full = new List<TKey>();
        foreach (var (key, bucket) in stripe.Buckets)
        {
            if (bucket.IsFullAt(nowMs))
            {
                full.Add(key);
            }
        }

        foreach (var key in full)
        {
            stripe.Buckets.Remove(key);
        }
    }

    private sealed class Stripe
    {
        public Dictionary<TKey, TokenBucket> Buckets { get; } = [];
    }
}
