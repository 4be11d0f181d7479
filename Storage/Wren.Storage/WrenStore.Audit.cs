using System.Buffers.Binary;
using System.Text;
using RocksDbSharp;
using Wren.Storage.Internal;

namespace Wren.Storage;

/// <summary>The audit log: column family <c>audit</c>, key <c>id(8)</c> big-endian, append-only.</summary>
/// <remarks>
/// Value: <c>timeMs(8) action(2) actor(8) actorDevice(4) subject(8) conv(8) detailLen(2) detail(utf8) remoteLen(2)
/// remote(utf8)</c>. Ids come from the last key in the family (read once, on the writer thread), so they keep increasing
/// across restarts. Nothing updates or deletes a record.
/// </remarks>
public sealed partial class WrenStore : IAuditStore
{
    /// <summary>Largest stored detail or address, in UTF-8 bytes; longer text is cut.</summary>
    private const int MaxAuditTextBytes = 1024;

    /// <summary>The next audit id; 0 until the writer has read the last stored one.</summary>
    private ulong _nextAuditId;

    /// <inheritdoc/>
    public Task<ulong> AppendAuditAsync(IReadOnlyList<AuditRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
        {
            return Task.FromResult(_nextAuditId == 0 ? 0UL : _nextAuditId - 1);
        }

        var values = new byte[records.Count][];
        for (int i = 0; i < records.Count; i++)
        {
            values[i] = EncodeAudit(records[i]);
        }

        return RunOnWriterAsync(() =>
        {
            if (_nextAuditId == 0)
            {
                _nextAuditId = LastAuditId() + 1;
            }

            using var batch = new WriteBatch();
            var cf = _db.GetColumnFamily(Keys.Audit);
            ulong id = _nextAuditId;
            foreach (var value in values)
            {
                batch.Put(Keys.U64(id++), value, cf);
            }

            WriteDurably(batch, _options.Durability == DurabilityMode.Sync);
            _nextAuditId = id;
            return id - 1;
        });
    }

    /// <inheritdoc/>
    public AuditPage ReadAudit(ulong afterId, int limit, AuditFilter filter, int maxScanned = 10_000)
    {
        var items = new List<AuditRecord>();
        if (limit <= 0 || maxScanned <= 0 || afterId == ulong.MaxValue)
        {
            return new AuditPage(items, afterId, false);
        }

        Enter();
        try
        {
            var readOptions = new ReadOptions();
            using var iterator = _db.NewIterator(_db.GetColumnFamily(Keys.Audit), readOptions);
            ulong last = afterId;
            int scanned = 0;
            for (iterator.Seek(Keys.U64(afterId + 1)); iterator.Valid() && items.Count < limit && scanned < maxScanned; iterator.Next())
            {
                scanned++;
                var record = DecodeAudit(Keys.ReadU64(iterator.GetKeySpan()), iterator.GetValueSpan());
                last = record.Id;
                if ((filter.UserId == 0 || record.ActorUserId == filter.UserId || record.SubjectUserId == filter.UserId)
                    && (filter.Action == 0 || record.Action == filter.Action)
                    && record.TimeMs >= filter.SinceMs)
                {
                    items.Add(record);
                }
            }

            bool more = iterator.Valid();
            GC.KeepAlive(readOptions);
            return new AuditPage(items, last, more);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>The highest stored audit id, 0 when the log is empty. Writer thread.</summary>
    private ulong LastAuditId()
    {
        var readOptions = new ReadOptions();
        using var iterator = _db.NewIterator(_db.GetColumnFamily(Keys.Audit), readOptions);
        iterator.SeekToLast();
        ulong id = iterator.Valid() ? Keys.ReadU64(iterator.GetKeySpan()) : 0;
        GC.KeepAlive(readOptions);
        return id;
    }

    private static byte[] EncodeAudit(AuditRecord record)
    {
        var detail = Utf8Prefix(record.Detail);
        var remote = Utf8Prefix(record.RemoteAddress);
        var value = new byte[38 + 2 + detail.Length + 2 + remote.Length];
        var span = value.AsSpan();
        BinaryPrimitives.WriteInt64BigEndian(span, record.TimeMs);
        BinaryPrimitives.WriteUInt16BigEndian(span[8..], record.Action);
        BinaryPrimitives.WriteUInt64BigEndian(span[10..], record.ActorUserId);
        BinaryPrimitives.WriteUInt32BigEndian(span[18..], record.ActorDeviceId);
        BinaryPrimitives.WriteUInt64BigEndian(span[22..], record.SubjectUserId);
        BinaryPrimitives.WriteUInt64BigEndian(span[30..], record.ConversationId);
        BinaryPrimitives.WriteUInt16BigEndian(span[38..], (ushort)detail.Length);
        detail.CopyTo(span[40..]);
        int at = 40 + detail.Length;
        BinaryPrimitives.WriteUInt16BigEndian(span[at..], (ushort)remote.Length);
        remote.CopyTo(span[(at + 2)..]);
        return value;
    }

    private static AuditRecord DecodeAudit(ulong id, ReadOnlySpan<byte> value)
    {
        if (value.Length < 42)
        {
            throw new StorageCorruptException($"Audit record {id} is truncated.");
        }

        int detailLength = BinaryPrimitives.ReadUInt16BigEndian(value[38..]);
        int at = 40 + detailLength;
        if (value.Length < at + 2 || value.Length != at + 2 + BinaryPrimitives.ReadUInt16BigEndian(value[at..]))
        {
            throw new StorageCorruptException($"Audit record {id} is malformed.");
        }

        return new AuditRecord(
            id,
            BinaryPrimitives.ReadInt64BigEndian(value),
            BinaryPrimitives.ReadUInt16BigEndian(value[8..]),
            BinaryPrimitives.ReadUInt64BigEndian(value[10..]),
            BinaryPrimitives.ReadUInt32BigEndian(value[18..]),
            BinaryPrimitives.ReadUInt64BigEndian(value[22..]),
            BinaryPrimitives.ReadUInt64BigEndian(value[30..]),
            Encoding.UTF8.GetString(value.Slice(40, detailLength)),
            Encoding.UTF8.GetString(value[(at + 2)..]));
    }

    /// <summary>The UTF-8 bytes of <paramref name="text"/>, cut at a character boundary to <see cref="MaxAuditTextBytes"/>.</summary>
    private static byte[] Utf8Prefix(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return [];
        }

        var bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length <= MaxAuditTextBytes)
        {
            return bytes;
        }

        int cut = MaxAuditTextBytes;
        while (cut > 0 && (bytes[cut] & 0xC0) == 0x80)
        {
            cut--;
        }

        return bytes[..cut];
    }
}
