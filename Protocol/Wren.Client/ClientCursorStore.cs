using System.Collections.Concurrent;

namespace Wren.Client;

/// <summary>A device's position in one conversation: the epoch and the last seq it holds.</summary>
/// <param name="Epoch">Log epoch.</param>
/// <param name="Seq">Last seq held (0 = none).</param>
public readonly record struct ClientCursor(uint Epoch, ulong Seq);

/// <summary>Persists what a device holds so it resumes where it left off. Implement it over the app's database.</summary>
public interface IClientCursorStore
{
    /// <summary>The position in a conversation, if any.</summary>
    bool TryGet(ulong conversationId, out ClientCursor cursor);

    /// <summary>Records a new position.</summary>
    void Set(ulong conversationId, ClientCursor cursor);

    /// <summary>Every known position.</summary>
    IReadOnlyDictionary<ulong, ClientCursor> All();
}

/// <summary>The default cursor store: memory only (a restarted process syncs from the server's cursors).</summary>
public sealed class InMemoryClientCursorStore : IClientCursorStore
{
    private readonly ConcurrentDictionary<ulong, ClientCursor> _cursors = new();

    /// <inheritdoc/>
    public bool TryGet(ulong conversationId, out ClientCursor cursor) => _cursors.TryGetValue(conversationId, out cursor);

    /// <inheritdoc/>
    public void Set(ulong conversationId, ClientCursor cursor) => _cursors[conversationId] = cursor;

    /// <inheritdoc/>
    public IReadOnlyDictionary<ulong, ClientCursor> All() => new Dictionary<ulong, ClientCursor>(_cursors);
}
