using System.Collections.Concurrent;
using System.Collections.Immutable;

namespace Wren.Broker.Core;

/// <summary>Where a user's devices are connected. The seam a cluster mode replaces to route to other nodes.</summary>
public interface IDeviceLocator
{
    /// <summary>The user's sessions connected to this node (empty when none).</summary>
    ImmutableArray<Session> GetSessions(ulong userId);
}

/// <summary>
/// Online sessions per user. Reads are lock-free (an immutable array per user, swapped on change); writes, which happen
/// only on connect and disconnect, take a short per-registry lock.
/// </summary>
public sealed class DeviceRegistry : IDeviceLocator
{
    private readonly ConcurrentDictionary<ulong, ImmutableArray<Session>> _byUser = new();
    private readonly ConcurrentDictionary<ulong, long> _lastSeen = new();
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private int _count;

    /// <summary>Creates an empty registry.</summary>
    public DeviceRegistry(TimeProvider time) => _time = time;

    /// <summary>Number of registered sessions.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Number of users with at least one session.</summary>
    public int OnlineUsers => _byUser.Count;

    /// <inheritdoc/>
    public ImmutableArray<Session> GetSessions(ulong userId) =>
        _byUser.TryGetValue(userId, out var sessions) ? sessions : ImmutableArray<Session>.Empty;

    /// <summary>True when the user has at least one session.</summary>
    public bool IsOnline(ulong userId) => _byUser.ContainsKey(userId);

    /// <summary>When the user was last connected (now while online), Unix ms; 0 when never seen since start.</summary>
    public long LastSeenMs(ulong userId) =>
        IsOnline(userId) ? _time.GetUtcNow().ToUnixTimeMilliseconds() : _lastSeen.GetValueOrDefault(userId);

    /// <summary>Adds a session. Returns true when it is the user's first (the user came online).</summary>
    public bool Add(Session session)
    {
        lock (_gate)
        {
            var current = GetSessions(session.UserId);
            _byUser[session.UserId] = current.Add(session);
            _count++;
            return current.IsEmpty;
        }
    }

    /// <summary>Removes a session. Returns true when it was the user's last (the user went offline).</summary>
    public bool Remove(Session session)
    {
        lock (_gate)
        {
            var current = GetSessions(session.UserId);
            var next = current.Remove(session);
            if (next.Length == current.Length)
            {
                return false;
            }

            _count--;
            if (next.IsEmpty)
            {
                _byUser.TryRemove(session.UserId, out _);
                _lastSeen[session.UserId] = _time.GetUtcNow().ToUnixTimeMilliseconds();
                return true;
            }

            _byUser[session.UserId] = next;
            return false;
        }
    }

    /// <summary>Every registered session (a snapshot).</summary>
    public IEnumerable<Session> All() => _byUser.Values.SelectMany(s => s);
}
