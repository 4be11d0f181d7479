using RocksDbSharp;
using Wren.Storage.Internal;

namespace Wren.Storage;

/// <summary>Internal hooks for tests, benchmarks and the crash host; not part of the contract.</summary>
public sealed partial class WrenStore
{
    /// <summary>An exception of the kind a failed RocksDB write throws, for <see cref="BeforeWrite"/> in tests.</summary>
    internal static Exception SimulatedWriteError(string message) => new RocksDbSharpException(message);

    /// <summary>Flushes every memtable to SST files and waits (so tests can inspect on-disk tables).</summary>
    internal void FlushMemtables()
    {
        Enter();
        try
        {
            var flushOptions = new FlushOptions().SetWaitForFlush(true);
            foreach (var name in Keys.AllFamilies)
            {
                Native.Instance.rocksdb_flush_cf(_db.Handle, flushOptions.Handle, _db.GetColumnFamily(name).Handle);
            }

            GC.KeepAlive(flushOptions);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>The persisted (not in-memory) delivered cursor, or null.</summary>
    internal (uint Epoch, ulong Seq)? GetPersistedDelivered(ulong userId, uint deviceId, ulong conversationId)
    {
        var key = new byte[20];
        Keys.Cursor(key, userId, deviceId, conversationId);
        var value = Get(key, _cursorsCf);
        return value is null ? null : Codec.ReadEpochSeq(value);
    }

    /// <summary>Writes a raw delivered cursor record (takes effect in memory at the next open).</summary>
    internal Task PutPersistedDeliveredAsync(ulong userId, uint deviceId, ulong conversationId, uint epoch, ulong seq) => RunOnWriterAsync(() =>
    {
        var key = new byte[20];
        Keys.Cursor(key, userId, deviceId, conversationId);
        var value = new byte[Codec.CursorValueSize];
        Codec.WriteEpochSeq(value, epoch, seq);
        using var batch = new WriteBatch();
        batch.Put(key, value, _cursorsCf);
        WriteDurably(batch);
        return true;
    });

    /// <summary>Whether a dedup record (expired or not) is stored for the pair.</summary>
    internal bool DedupRecordExists(ulong senderUserId, string clientMsgId)
    {
        var key = new byte[8 + StoreOptions.MaxClientMsgIdBytes];
        var length = Keys.DedupKey(key, senderUserId, clientMsgId);
        return Get(key.AsSpan(0, length), _dedupCf) is not null;
    }

    /// <summary>Number of entries in the dedup expiry index.</summary>
    internal int CountDedupExpiryEntries()
    {
        var count = 0;
        Enter();
        try
        {
            Scan(_dedupExpiryCf, [], (_, _) => count++);
        }
        finally
        {
            Exit();
        }

        return count;
    }
}
