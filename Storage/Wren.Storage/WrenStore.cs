using System.Collections.Concurrent;
using System.Threading.Channels;
using RocksDbSharp;
using Wren.Storage.Internal;

namespace Wren.Storage;

/// <summary>
/// The RocksDB storage engine: per-conversation logs with group commit and idempotent appends, conversations and
/// members, cursors, users, devices and tokens.
/// </summary>
/// <remarks>
/// <para>
/// One writer thread owns every write. Appends are queued, drained into one WriteBatch per group commit (message, head
/// and dedup record together), written with one fsync in <see cref="DurabilityMode.Sync"/>, and only then completed.
/// Metadata changes (conversations, members, users, tokens, cursor flushes) run on the same thread between batches, each
/// with its own synced write, so they never interleave with seq allocation.
/// </para>
/// <para>
/// Heads, epochs, members, the per-user conversation index and cursors live in memory (loaded at open) and answer reads
/// without touching RocksDB. Open with <see cref="Open"/>; close with <see cref="DisposeAsync"/>, which drains queued
/// work, flushes cursors and closes the database.
/// </para>
/// </remarks>
public sealed partial class WrenStore : IMessageLog, IConversationStore, ICursorStore, IUserStore, IStoreStatistics, IStoreCheckpoint, IAsyncDisposable
{
    private const uint InitialEpoch = 1;

    private readonly StoreOptions _options;
    private readonly string _directory;
    private RocksDb _db;
    private readonly Cache _blockCache;
    private ColumnFamilyHandle _messagesCf;
    private ColumnFamilyHandle _conversationsCf;
    private ColumnFamilyHandle _membersCf;
    private ColumnFamilyHandle _userConversationsCf;
    private ColumnFamilyHandle _directCf;
    private ColumnFamilyHandle _cursorsCf;
    private ColumnFamilyHandle _readCursorsCf;
    private ColumnFamilyHandle _dedupCf;
    private ColumnFamilyHandle _dedupExpiryCf;
    private ColumnFamilyHandle _usersCf;
    private ColumnFamilyHandle _userNamesCf;
    private ColumnFamilyHandle _devicesCf;
    private ColumnFamilyHandle _tokensCf;
    private ColumnFamilyHandle _userTokensCf;
    private ColumnFamilyHandle _metaCf;
    private readonly WriteOptions _syncWrite = new WriteOptions().SetSync(true);
    private readonly WriteOptions _lazyWrite = new WriteOptions().SetSync(false);
    private readonly WriteOptions _appendWrite;
    private readonly ReadOptions _pointRead = new();
    private readonly ConcurrentQueue<ReadOptions> _rangeReadOptions = new();
    private volatile MessageCipher? _cipher;
    private readonly TimeProvider _time;
    private readonly Channel<WorkItem> _queue;
    private readonly Thread _writerThread;
    private readonly TaskCompletionSource _writerDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ITimer _cursorTimer;
    private readonly ITimer _sweepTimer;

    private readonly ConcurrentDictionary<ulong, ConversationState> _conversations = new();
    private readonly ConcurrentDictionary<ulong, ulong[]> _userConversations = new();
    private readonly ConcurrentDictionary<(ulong Low, ulong High), ulong> _directs = new();

    private ulong _nextConversationId = 1;
    private ulong _nextUserId = 1;
    private long _userCount;
    private long _batches;
    private long _batchedAppends;
    private long _backgroundFailures;
    private int _activeCalls;
    private int _closed;
    private int _disposeStarted;

    private WrenStore(StoreOptions options, string directory, RocksDb db, Cache blockCache)
    {
        _options = options;
        _directory = directory;
        _db = db;
        _blockCache = blockCache;
        _time = options.TimeProvider;
        _appendWrite = options.Durability == DurabilityMode.Sync ? _syncWrite : _lazyWrite;
        BindFamilies(db);
        _cipher = options.Encryption is null ? null : new MessageCipher(options.Encryption);

        _batchDedup = new Dictionary<(ulong, string), PendingAppend>(options.MaxBatchCount);
        _staged = new List<PendingAppend>(options.MaxBatchCount);
        _toWrite = new List<PendingAppend>(options.MaxBatchCount);

        CheckLayout();
        Load();

        _queue = Channel.CreateBounded<WorkItem>(new BoundedChannelOptions(options.MaxQueuedOperations)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
            AllowSynchronousContinuations = false,
        });
        _writerThread = new Thread(WriterLoop) { IsBackground = true, Name = "wren-storage-writer" };
        _writerThread.Start();
        _cursorTimer = _time.CreateTimer(static s => ((WrenStore)s!).OnCursorTimer(), this, options.CursorFlushInterval, options.CursorFlushInterval);
        _sweepTimer = _time.CreateTimer(static s => ((WrenStore)s!).OnSweepTimer(), this, options.DedupSweepInterval, options.DedupSweepInterval);
    }

    /// <summary>Opens (or creates) the store in <see cref="StoreOptions.DataDirectory"/>.</summary>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    /// <exception cref="StorageException">
    /// The directory is in use by another process, is damaged, is not a Wren store, or has another layout version.
    /// The message says which and what to do.
    /// </exception>
    public static WrenStore Open(StoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var directory = Path.GetFullPath(options.DataDirectory);
        CheckDirectory(directory);
        Directory.CreateDirectory(directory);

        var blockCache = Cache.CreateLru((ulong)options.BlockCacheBytes);
        var dbOptions = new DbOptions()
            .SetCreateIfMissing(true)
            .SetCreateMissingColumnFamilies(true)
            .SetParanoidChecks(true)
            .SetMaxOpenFiles(options.MaxOpenFiles)
            .SetKeepLogFileNum(5)
            .SetMaxTotalWalSize(256UL * 1024 * 1024)
            .SetWalRecoveryMode(Recovery.PointInTime);
        var families = new ColumnFamilies(FamilyOptions(blockCache, pointLookups: false));
        foreach (var name in Keys.AllFamilies)
        {
            var pointLookups = name is Keys.Dedup or Keys.Tokens or Keys.UserNames or Keys.Users;
            families.Add(name, FamilyOptions(blockCache, pointLookups));
        }

        RocksDb db;
        try
        {
            db = RocksDb.Open(dbOptions, directory, families);
        }
        catch (RocksDbSharpException e)
        {
            throw TranslateOpenError(directory, e);
        }

        try
        {
            var store = new WrenStore(options, directory, db, blockCache);
            store._dbOptions = dbOptions;
            store._families = families;
            return store;
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    /// <summary>RocksDB's <c>kTwoLevelIndexSearch</c> (<c>rocksdb_block_based_table_index_type_two_level_index_search</c>).</summary>
    private const int TwoLevelIndexSearch = 2;

    private static ColumnFamilyOptions FamilyOptions(Cache blockCache, bool pointLookups) =>
        FamilyOptions(TableOptions(blockCache, pointLookups), pointLookups);

    /// <summary>The table options of a column family: block cache, partitioned index and filters, bloom filter.</summary>
    internal static BlockBasedTableOptions TableOptions(Cache blockCache, bool pointLookups)
    {
        var table = new BlockBasedTableOptions()
            .SetBlockCache(blockCache)
            .SetCacheIndexAndFilterBlocks(true)
            .SetPinL0FilterAndIndexBlocksInCache(true)
            .SetFormatVersion(5);

        // Partitioned index and filters: a table's index and bloom filter are cut into ~4 KiB blocks under a small
        // top-level block pinned in the cache. Whole, a big table's filter (10 bits per key: 1.25 MB per million keys)
        // is larger than one shard of the LRU block cache (64 MiB in 64 shards of 1 MiB), so the cache never kept it
        // and every lookup of a new client message id re-read it from the file and checksummed it; after about a
        // million messages that made the storage writer the bottleneck (W1 fell from 40,000 to 6,000 msg/s).
        Native.Instance.rocksdb_block_based_options_set_index_type(table.Handle, TwoLevelIndexSearch);
        Native.Instance.rocksdb_block_based_options_set_partition_filters(table.Handle, 1);
        Native.Instance.rocksdb_block_based_options_set_metadata_block_size(table.Handle, 4096);
        Native.Instance.rocksdb_block_based_options_set_pin_top_level_index_and_filter(table.Handle, 1);
        Native.Instance.rocksdb_block_based_options_set_cache_index_and_filter_blocks_with_high_priority(table.Handle, 1);
        if (pointLookups)
        {
            table.SetFilterPolicy(BloomFilterPolicy.Create(10, false));
        }

        return table;
    }

    /// <summary>The options of a column family with <paramref name="table"/> as its table format.</summary>
    internal static ColumnFamilyOptions FamilyOptions(BlockBasedTableOptions table, bool pointLookups)
    {
        // Four memtables per family before writes stop (RocksDB's default is two): a burst that fills a family's
        // memtable faster than the one flush thread writes the previous one out (seen for the dedup family under W1
        // overload on 2 cores: "Stopping writes because we have 2 immutable memtables") then slows nothing; the
        // memory is only used during such a burst.
        var family = new ColumnFamilyOptions().SetBlockBasedTableFactory(table).SetMaxWriteBufferNumber(4);
        if (pointLookups)
        {
            // A bloom filter over the memtable's whole keys: a lookup of a key that is not there (every new client
            // message id checked for dedup on the write path) skips the skiplist search, which W1 profiles showed as
            // ~6 % of the broker's CPU.
            family.SetMemtablePrefixBloomSizeRatio(0.05);
            Native.Instance.rocksdb_options_set_memtable_whole_key_filtering(family.Handle, 1);
        }

        return family;
    }

    /// <summary>Refuses a directory with RocksDB files but no CURRENT (RocksDB would silently start a new database there).</summary>
    private static void CheckDirectory(string directory)
    {
        if (!Directory.Exists(directory) || File.Exists(Path.Combine(directory, "CURRENT")))
        {
            return;
        }

        foreach (var file in Directory.EnumerateFiles(directory))
        {
            var name = Path.GetFileName(file);
            if (name.StartsWith("MANIFEST-", StringComparison.Ordinal) || name.EndsWith(".sst", StringComparison.Ordinal)
                || (name.EndsWith(".log", StringComparison.Ordinal) && char.IsAsciiDigit(name[0])))
            {
                throw new StorageException(
                    $"The data directory '{directory}' is damaged: it holds database files but no CURRENT file. " +
                    "Restore it from a checkpoint, or move it aside to start with an empty store.");
            }
        }
    }

    private static StorageException TranslateOpenError(string directory, RocksDbSharpException e)
    {
        var message = e.Message ?? "";
        if (message.Contains("LOCK", StringComparison.Ordinal) || message.Contains("lock hold", StringComparison.OrdinalIgnoreCase))
        {
            return new StorageException(
                $"The data directory '{directory}' is in use by another Wren store (its RocksDB LOCK file is held). " +
                "Stop the other process or store that uses it, or choose another data directory.", e);
        }

        if (message.Contains("Corruption", StringComparison.OrdinalIgnoreCase) || message.Contains("MANIFEST", StringComparison.Ordinal)
            || message.Contains("No such file", StringComparison.OrdinalIgnoreCase))
        {
            return new StorageException(
                $"The data directory '{directory}' is damaged and cannot be opened ({message}). " +
                "Restore it from a checkpoint, or move it aside to start with an empty store.", e);
        }

        return new StorageException($"The data directory '{directory}' cannot be opened: {message}", e);
    }

    private void CheckLayout()
    {
        var stored = _db.Get(Keys.LayoutKey, _metaCf, _pointRead);
        if (stored is null)
        {
            using var batch = new WriteBatch();
            batch.Put(Keys.LayoutKey, Keys.U64(StorageInfo.LayoutVersion), _metaCf);
            _db.Write(batch, _syncWrite);
            return;
        }

        var version = stored.Length == 8 ? Keys.ReadU64(stored) : ulong.MaxValue;
        if (version != StorageInfo.LayoutVersion)
        {
            throw new StorageException(
                $"The data directory '{_directory}' has storage layout {version}; this build reads layout {StorageInfo.LayoutVersion}. " +
                "Use a matching Wren version.");
        }
    }

    /// <summary>Loads conversations, heads, members, the user index, direct pairs, cursors and counters into memory.</summary>
    private void Load()
    {
        (ConversationKind Kind, long CreatedMs, string Title)? meta = null;
        ulong metaId = 0;
        Scan(_conversationsCf, [], (key, value) =>
        {
            var id = Keys.ReadU64(key);
            if (key.Length != 9)
            {
                throw new StorageCorruptException("A conversation key is malformed.");
            }

            if (key[8] == Keys.ConversationMetaTag)
            {
                meta = Codec.ReadConversationMeta(value);
                metaId = id;
            }
            else if (meta is { } m && metaId == id)
            {
                var (epoch, head) = Codec.ReadEpochSeq(value);
                _conversations[id] = new ConversationState(id, m.Kind, m.Title, m.CreatedMs, epoch, head);
            }
            else
            {
                throw new StorageCorruptException($"Conversation {id} has a head but no description.");
            }
        });

        var members = new Dictionary<ulong, Dictionary<ulong, Member>>();
        Scan(_membersCf, [], (key, value) =>
        {
            var conversationId = Keys.ReadU64(key);
            var userId = Keys.ReadU64(key[8..]);
            var (role, joined) = Codec.ReadMember(value);
            if (!members.TryGetValue(conversationId, out var list))
            {
                members[conversationId] = list = [];
            }

            list[userId] = new Member(userId, role, joined);
        });
        foreach (var (conversationId, list) in members)
        {
            if (_conversations.TryGetValue(conversationId, out var state))
            {
                state.SetMembers(new MembershipSnapshot(list));
            }
        }

        var index = new Dictionary<ulong, List<ulong>>();
        Scan(_userConversationsCf, [], (key, _) =>
        {
            var userId = Keys.ReadU64(key);
            if (!index.TryGetValue(userId, out var list))
            {
                index[userId] = list = [];
            }

            list.Add(Keys.ReadU64(key[8..]));
        });
        foreach (var (userId, list) in index)
        {
            _userConversations[userId] = [.. list];
        }

        Scan(_directCf, [], (key, value) => _directs[(Keys.ReadU64(key), Keys.ReadU64(key[8..]))] = Keys.ReadU64(value));

        Scan(_cursorsCf, [], (key, value) =>
        {
            var (epoch, seq) = Codec.ReadEpochSeq(value);
            var cell = new CursorCell(Keys.ReadU64(key), Keys.ReadU32(key[8..]), Keys.ReadU64(key[12..]), isRead: false)
            {
                Epoch = epoch,
                Seq = seq,
            };
            _delivered[new CursorKey(cell.UserId, cell.DeviceId, cell.ConversationId)] = cell;
        });
        Scan(_readCursorsCf, [], (key, value) =>
        {
            var (epoch, seq) = Codec.ReadEpochSeq(value);
            var cell = new CursorCell(Keys.ReadU64(key), 0, Keys.ReadU64(key[8..]), isRead: true) { Epoch = epoch, Seq = seq };
            _read[(cell.UserId, cell.ConversationId)] = cell;
        });

        _nextConversationId = ReadCounter(Keys.NextConversationKey);
        _nextUserId = ReadCounter(Keys.NextUserKey);
        _userCount = (long)(_nextUserId - 1);
    }

    private ulong ReadCounter(byte[] key)
    {
        var value = _db.Get(key, _metaCf, _pointRead);
        return value is { Length: 8 } ? Keys.ReadU64(value) : 1;
    }

    /// <summary>Visits every entry of a column family whose key starts with <paramref name="prefix"/>, in key order.</summary>
    private void Scan(ColumnFamilyHandle family, byte[] prefix, EntryVisitor visit)
    {
        var readOptions = new ReadOptions();
        if (prefix.Length > 0)
        {
            readOptions.SetIterateLowerBound(prefix);
            if (UpperBound(prefix) is { } upper)
            {
                readOptions.SetIterateUpperBound(upper);
            }
        }

        using var iterator = _db.NewIterator(family, readOptions);
        for (iterator.SeekToFirst(); iterator.Valid(); iterator.Next())
        {
            visit(iterator.GetKeySpan(), iterator.GetValueSpan());
        }

        GC.KeepAlive(readOptions);
    }

    /// <summary>The smallest key greater than every key with this prefix, or null when none exists.</summary>
    private static byte[]? UpperBound(byte[] prefix)
    {
        var upper = (byte[])prefix.Clone();
        for (var i = upper.Length - 1; i >= 0; i--)
        {
            if (upper[i] != 0xFF)
            {
                upper[i]++;
                return upper.AsSpan(0, i + 1).ToArray();
            }
        }

        return null;
    }

    private delegate void EntryVisitor(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value);

    /// <summary>Sizes and counters for operators.</summary>
    public StoreStatistics GetStatistics()
    {
        long messages = 0;
        foreach (var state in _conversations.Values)
        {
            messages += (long)state.Head;
        }

        long diskBytes = 0;
        try
        {
            foreach (var file in Directory.EnumerateFiles(_directory, "*", SearchOption.AllDirectories))
            {
                try
                {
                    diskBytes += new FileInfo(file).Length;
                }
                catch (IOException)
                {
                    // RocksDB deletes obsolete files at any time; a vanished file counts as zero.
                }
            }
        }
        catch (IOException)
        {
            diskBytes = -1;
        }

        return new StoreStatistics(
            _conversations.Count,
            messages,
            Interlocked.Read(ref _userCount),
            diskBytes,
            Interlocked.Read(ref _batches),
            Interlocked.Read(ref _batchedAppends));
    }

    /// <summary>
    /// Writes a consistent copy of the store into <paramref name="targetDirectory"/> (which must not exist), using
    /// RocksDB checkpoints (hard links where possible). The copy opens as a store with the same data.
    /// </summary>
    /// <remarks>Cursors are flushed first so the copy includes them. Encrypted bodies need the same keys to be read.</remarks>
    /// <exception cref="StorageException">The checkpoint could not be written.</exception>
    public async Task CheckpointAsync(string targetDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(targetDirectory);
        var target = Path.GetFullPath(targetDirectory);
        if (Directory.Exists(target))
        {
            throw new StorageException($"The checkpoint directory '{target}' already exists; choose a new directory.");
        }

        await FlushAsync().ConfigureAwait(false);
        await Task.Run(() =>
        {
            Enter();
            try
            {
                using var checkpoint = _db.Checkpoint();
                checkpoint.Save(target, 0);
            }
            catch (RocksDbSharpException e)
            {
                throw new StorageException($"The checkpoint into '{target}' failed: {e.Message}", e);
            }
            finally
            {
                Exit();
            }
        }).ConfigureAwait(false);
    }

    /// <summary>Stops accepting work, drains the writer queue, flushes cursors and closes the database.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposeStarted, 1) != 0)
        {
            await _writerDone.Task.ConfigureAwait(false);
            return;
        }

        await _cursorTimer.DisposeAsync().ConfigureAwait(false);
        await _sweepTimer.DisposeAsync().ConfigureAwait(false);
        _queue.Writer.TryComplete();
        await _writerDone.Task.ConfigureAwait(false);

        Interlocked.Exchange(ref _closed, 1);
        var spin = new SpinWait();
        while (Volatile.Read(ref _activeCalls) != 0)
        {
            spin.SpinOnce();
        }

        if (!ReferenceEquals(_db, _closedDb))
        {
            _db.Dispose();
        }

        _cipher?.Dispose();
        GC.KeepAlive(_blockCache);
    }

    /// <summary>Marks a call that uses the database; fails once the store is closed.</summary>
    private void Enter()
    {
        Interlocked.Increment(ref _activeCalls);
        if (Volatile.Read(ref _closed) != 0)
        {
            Interlocked.Decrement(ref _activeCalls);
            throw new ObjectDisposedException(nameof(WrenStore));
        }

        if (Volatile.Read(ref _dbState) != DbOpen)
        {
            // The database is being reopened after a failed write (WrenStore.Recovery.cs): wait for it, then enter again.
            Interlocked.Decrement(ref _activeCalls);
            WaitForDatabase();
            Enter();
        }
    }

    private void Exit() => Interlocked.Decrement(ref _activeCalls);

    private long NowMs() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Queues an operation for the writer thread and waits for it.</summary>
    private async Task<T> RunOnWriterAsync<T>(Func<T> body)
    {
        var operation = new WriterOperation<T>(body);
        if (!_queue.Writer.TryWrite(operation))
        {
            try
            {
                await _queue.Writer.WriteAsync(operation).ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
                throw new ObjectDisposedException(nameof(WrenStore));
            }
        }

        return await operation.Task.ConfigureAwait(false);
    }

    /// <summary>Queues background work for the writer thread; false when the store is closing or the queue is full.</summary>
    private bool TryRunInBackground(Action body) => _queue.Writer.TryWrite(new BackgroundOperation(this, body));

    /// <summary>Writes a batch with fsync on the writer thread; a failure becomes a <see cref="StorageException"/>.</summary>
    private void WriteDurably(WriteBatch batch, bool sync = true)
    {
        if (Volatile.Read(ref _dbState) != DbOpen)
        {
            throw new StorageException($"The store cannot write to '{_directory}' until its database reopens after a failed write. Check free disk space and permissions.");
        }

        try
        {
            BeforeWrite?.Invoke();
            _db.Write(batch, sync ? _syncWrite : _lazyWrite);
        }
        catch (RocksDbSharpException e)
        {
            OnWriteFailed();
            throw new StorageException($"The store could not write to '{_directory}': {e.Message}. Check free disk space and permissions.", e);
        }
    }

    /// <summary>Test hook: runs on the writer thread before every database write; throwing simulates a failed write.</summary>
    internal Action? BeforeWrite { get; set; }

    /// <summary>Test counter: iterators and point reads on the message log.</summary>
    internal long MessageReads => Interlocked.Read(ref _messageReads);

    /// <summary>Background operations (cursor flushes, dedup sweeps) that failed.</summary>
    internal long BackgroundFailures => Interlocked.Read(ref _backgroundFailures);

    private sealed class BackgroundOperation(WrenStore store, Action body) : WriterOperation
    {
        public override void Run()
        {
            try
            {
                body();
            }
            catch (Exception)
            {
                Interlocked.Increment(ref store._backgroundFailures);
            }
        }

        public override void Fail(Exception exception)
        {
        }
    }
}
