namespace Wren.Broker.Core;

/// <summary>A token bucket for per-session rate limits. Used from one session's read loop only: not thread-safe.</summary>
internal sealed class TokenBucket(int ratePerSecond, int burst, long nowMs)
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

        _tokens = Math.Min(burst, _tokens + ((nowMs - _lastMs) * ratePerSecond / 1000.0));
        _lastMs = nowMs;
        if (_tokens >= 1)
        {
            _tokens -= 1;
            return 0;
        }

        return (uint)Math.Ceiling((1 - _tokens) * 1000.0 / ratePerSecond);
    }
}
