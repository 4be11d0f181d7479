namespace Wren.Broker.Core;

/// <summary>A token bucket: per-session limits (used from one read loop) and each key of <see cref="KeyedRateLimiter{TKey}"/> (under its stripe lock). Not thread-safe.</summary>
internal sealed class TokenBucket(double ratePerSecond, int burst, long nowMs)
{
    private double _tokens = burst;
    private long _lastMs = nowMs;

    /// <summary>Takes a token. Returns 0 on success, or the milliseconds until one is available.</summary>
    public uint TryTake(long nowMs)
    {
        if (ratePerSecond <= 0)
        {
            return 0;
        }

        _tokens = TokensAt(nowMs);
        _lastMs = nowMs;
        if (_tokens >= 1)
        {
            _tokens -= 1;
            return 0;
        }

        return (uint)Math.Max(1, Math.Ceiling((1 - _tokens) * 1000.0 / ratePerSecond));
    }

    /// <summary>True when the bucket has refilled completely by <paramref name="nowMs"/> (it then equals a new one).</summary>
    public bool IsFullAt(long nowMs) => TokensAt(nowMs) >= burst;

    private double TokensAt(long nowMs) => Math.Min(burst, _tokens + (Math.Max(0, nowMs - _lastMs) * ratePerSecond / 1000.0));
}
