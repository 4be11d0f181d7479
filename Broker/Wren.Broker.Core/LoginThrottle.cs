using System.Collections.Concurrent;

namespace Wren.Broker.Core;

/// <summary>
/// Failed-login throttling per account name and per client address: after a number of free failures, each further
/// failure locks the key for an exponentially growing time (capped). A locked key is answered RateLimited with the time
/// left. Names are counted whether or not the user exists, so throttling does not reveal which accounts exist.
/// </summary>
public sealed class LoginThrottle
{
    private const int MaxEntries = 100_000;
    private readonly ConcurrentDictionary<string, Entry> _accounts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Entry> _addresses = new(StringComparer.Ordinal);
    private readonly AuthOptions _options;

    /// <summary>Creates the throttle.</summary>
    public LoginThrottle(AuthOptions options) => _options = options;

    /// <summary>Milliseconds until the account or address may try again; 0 when neither is locked.</summary>
    public long RetryAfterMs(string? account, string? address, long nowMs) => Math.Max(
        account is null ? 0 : Left(_accounts, account, nowMs),
        address is null ? 0 : Left(_addresses, address, nowMs));

    /// <summary>Counts a failed attempt against both keys.</summary>
    public void Failed(string? account, string? address, long nowMs)
    {
        if (account is not null)
        {
            Count(_accounts, account, _options.AccountFreeFailures, nowMs);
        }

        if (address is not null)
        {
            Count(_addresses, address, _options.AddressFreeFailures, nowMs);
        }
    }

    /// <summary>A successful login clears the account's failures.</summary>
    public void Succeeded(string account) => _accounts.TryRemove(account, out _);

    /// <summary>Forgets keys whose last failure is older than the longest lockout (called periodically).</summary>
    public void Prune(long nowMs)
    {
        long horizon = nowMs - (long)_options.LockoutMax.TotalMilliseconds;
        foreach (var map in new[] { _accounts, _addresses })
        {
            foreach (var (key, entry) in map)
            {
                if (entry.LastFailureMs < horizon && entry.LockedUntilMs <= nowMs)
                {
                    map.TryRemove(key, out _);
                }
            }
        }
    }

    private static long Left(ConcurrentDictionary<string, Entry> map, string key, long nowMs) =>
        map.TryGetValue(key, out var entry) ? Math.Max(0, entry.LockedUntilMs - nowMs) : 0;

    private void Count(ConcurrentDictionary<string, Entry> map, string key, int free, long nowMs)
    {
        if (map.Count >= MaxEntries && !map.ContainsKey(key))
        {
            Prune(nowMs);
        }

        map.AddOrUpdate(
            key,
            _ => Next(new Entry(0, 0, 0), free, nowMs),
            (_, current) => Next(current, free, nowMs));
    }

    private Entry Next(Entry current, int free, long nowMs)
    {
        int failures = current.Failures + 1;
        long locked = current.LockedUntilMs;
        if (failures > free)
        {
            int doublings = Math.Min(failures - free - 1, 30);
            double ms = Math.Min(_options.LockoutBase.TotalMilliseconds * Math.Pow(2, doublings), _options.LockoutMax.TotalMilliseconds);
            locked = Math.Max(locked, nowMs + (long)ms);
        }

        return new Entry(failures, locked, nowMs);
    }

    private sealed record Entry(int Failures, long LockedUntilMs, long LastFailureMs);
}
