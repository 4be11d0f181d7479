using RocksDbSharp;

namespace Wren.Storage.Tests;

/// <summary>
/// The store's table options keep a big table's bloom filter in the block cache. Every message's client id is looked
/// up (and is absent) on the write path. A whole filter bigger than one shard of the LRU cache is dropped as soon as the
/// lookup that read it releases it, so once the dedup family's tables were compacted past level 0 (whose filters are
/// pinned) every lookup re-read and checksummed the whole filter.
/// </summary>
public sealed class BlockCacheTests
{
    // 1.2 million keys at 10 bits per key: a 1.5 MB filter, more than one 1 MiB shard of the default 64 MiB cache.
    private const int Keys = 1_200_000;
    private const int Lookups = 500;
    private const int EnableCount = 2; // rocksdb_enable_count: perf context counters, no timers

    [Theory]
    [InlineData(true)]
    [InlineData(false)] // Control: the same options with a whole (unpartitioned) index and filter.
    public void Lookups_in_a_big_compacted_table_read_its_filter_from_the_cache(bool storeOptions)
    {
        string directory = Path.Combine(Path.GetTempPath(), "wren-cache-" + Guid.NewGuid().ToString("N"));
        var cache = Cache.CreateLru((ulong)new StoreOptions().BlockCacheBytes);
        var table = WrenStore.TableOptions(cache, pointLookups: true);
        if (!storeOptions)
        {
            Native.Instance.rocksdb_block_based_options_set_index_type(table.Handle, 0);
            Native.Instance.rocksdb_block_based_options_set_partition_filters(table.Handle, 0);
        }

        var families = new ColumnFamilies { { "dedup", WrenStore.FamilyOptions(table, pointLookups: true) } };
        var options = new DbOptions().SetCreateIfMissing(true).SetCreateMissingColumnFamilies(true);
        try
        {
            using (var db = RocksDb.Open(options, directory, families))
            {
                var family = db.GetColumnFamily("dedup");
                var random = new Random(1);
                var key = new byte[16];
                var value = new byte[8];
                var noWal = new WriteOptions().DisableWal(1);
                // Two halves, each compacted: the second compaction merges them into a new table at the last level. (A
                // single flushed table would only be moved there, keeping the level-0 table reader that pins its filter.)
                for (int half = 0; half < 2; half++)
                {
                    for (int written = 0; written < Keys / 2;)
                    {
                        using var batch = new WriteBatch();
                        for (int i = 0; i < 10_000; i++, written++)
                        {
                            random.NextBytes(key);
                            batch.Put(key, value, family);
                        }

                        db.Write(batch, noWal);
                    }

                    db.CompactRange((byte[]?)null, null, family);
                }

                Assert.Equal("0", db.GetProperty("rocksdb.num-files-at-level0", family));

                // Lookups of absent ids, as on the write path, between reads of stored keys whose data blocks enter
                // the cache (as other families' blocks do in the broker) and evict what a full shard holds.
                var present = new Random(1);
                var absent = new Random(2);
                LookUp(db, family, present, absent);
                var native = Native.Instance;
                native.rocksdb_set_perf_level(EnableCount);
                var context = native.rocksdb_perfcontext_create();
                try
                {
                    native.rocksdb_perfcontext_reset(context);
                    LookUp(db, family, present, absent);
                    var report = native.rocksdb_perfcontext_report(context, 0);
                    var counters = Counters(System.Runtime.InteropServices.Marshal.PtrToStringUTF8(report)!);
                    native.rocksdb_free(report);
                    long filterBytes = counters.GetValueOrDefault("filter_block_read_byte");
                    if (storeOptions)
                    {
                        Assert.Equal(0, filterBytes);
                    }
                    else
                    {
                        // Measured: the whole 1.5 MB filter read for every one of the 1,000 lookups.
                        Assert.True(filterBytes > Lookups * 1024L * 1024, $"read {filterBytes:N0} bytes of filter");
                    }
                }
                finally
                {
                    native.rocksdb_perfcontext_destroy(context);
                    native.rocksdb_set_perf_level(1);
                }
            }
        }
        finally
        {
            GC.KeepAlive(cache);
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>
    /// <see cref="Lookups"/> times: one stored key (the next of the sequence the table was written with) is found and
    /// one random key is not.
    /// </summary>
    private static void LookUp(RocksDb db, ColumnFamilyHandle family, Random present, Random absent)
    {
        var key = new byte[16];
        for (int i = 0; i < Lookups; i++)
        {
            present.NextBytes(key);
            Assert.NotNull(db.Get(key, family));
            absent.NextBytes(key);
            Assert.Null(db.Get(key, family));
        }
    }

    /// <summary>Parses RocksDB's perf context report ("name = value, name = value").</summary>
    private static Dictionary<string, long> Counters(string report) =>
        report.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', StringSplitOptions.TrimEntries))
            .ToDictionary(pair => pair[0], pair => long.Parse(pair[1], System.Globalization.CultureInfo.InvariantCulture));
}
