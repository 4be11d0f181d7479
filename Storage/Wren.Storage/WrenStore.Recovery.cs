using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using RocksDbSharp;
using Wren.Storage.Internal;

namespace Wren.Storage;

/// <summary>
/// Recovery from failed writes. After a write error RocksDB refuses every later write (its background error stays set,
/// and this RocksDbSharp has no <c>rocksdb_resume</c>), so the store closes and reopens the database once the file
/// system accepts writes again.
/// </summary>
/// <remarks>
/// <para>
/// A failed write (disk full, I/O error) marks the store as needing a reopen. Before the writer takes its next item it
/// checks, at most once per <see cref="RecoveryInterval"/>, whether a probe file of <see cref="RecoveryProbeBytes"/>
/// can be written and fsynced in the data directory. When it can, the writer commits or fails what it has staged, then
/// reopens the database: new readers wait on a gate, the writer waits for readers in flight to leave, closes RocksDB,
/// opens it again with the same options, binds the new column family handles and opens the gate. Until then appends
/// keep completing with <see cref="AppendStatus.Unavailable"/> (RocksDB fails them at once) and reads keep working.
/// </para>
/// <para>
/// Reopening replays the WAL, which can bring back a batch whose write reported an error after its bytes reached the
/// file. The store then reads the stored heads: a conversation whose stored head is above the in-memory head gets
/// those entries published (and handed to <see cref="Committed"/>) as stored without acknowledgement, exactly as after
/// a crash; a retry with the same client message id is answered Duplicate with that seq. The id counters take the
/// larger of the stored and in-memory values, so no id is handed out twice.
/// </para>
/// </remarks>
public sealed partial class WrenStore
{
    private const int DbOpen = 0;
    private const int DbReopening = 1;
    private const int DbDown = 2;
    private const string ProbeFileName = "wren-space-probe.tmp";

    private readonly ManualResetEventSlim _dbGate = new(true);
    private readonly Dictionary<ColumnFamilyHandle, string> _familyNames = new(ReferenceEqualityComparer.Instance);
    private readonly Lock _familyNamesLock = new();
    private DbOptions? _dbOptions;
    private ColumnFamilies? _families;
    private int _dbState;
    private bool _needsReopen;
    private long _nextRecoveryAttempt;
    private long _reopens;
    private long _failedWrites;

    /// <summary>Shortest time between two recovery attempts after a failed write. Default 1 s.</summary>
    internal TimeSpan RecoveryInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Size of the probe file that must be written and fsynced before the database is reopened. Default 4 MiB: room for
    /// the new WAL, MANIFEST and OPTIONS files and the flush of the replayed WAL, so a reopen does not fail for space.
    /// </summary>
    internal int RecoveryProbeBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Times the database was closed and reopened after a failed write.</summary>
    internal long Reopens => Interlocked.Read(ref _reopens);

    /// <summary>Database writes (append batches and metadata writes) that failed.</summary>
    internal long FailedWrites => Interlocked.Read(ref _failedWrites);

    /// <summary>Binds the column family handles of <paramref name="db"/> to the fields and remembers their names.</summary>
    [MemberNotNull(nameof(_messagesCf), nameof(_conversationsCf), nameof(_membersCf), nameof(_userConversationsCf), nameof(_directCf),
        nameof(_cursorsCf), nameof(_readCursorsCf), nameof(_dedupCf), nameof(_dedupExpiryCf), nameof(_usersCf), nameof(_userNamesCf),
        nameof(_devicesCf), nameof(_tokensCf), nameof(_userTokensCf), nameof(_metaCf))]
    private void BindFamilies(RocksDb db)
    {
        _messagesCf = Bind(db, Keys.Messages);
        _conversationsCf = Bind(db, Keys.Conversations);
        _membersCf = Bind(db, Keys.Members);
        _userConversationsCf = Bind(db, Keys.UserConversations);
        _directCf = Bind(db, Keys.Direct);
        _cursorsCf = Bind(db, Keys.Cursors);
        _readCursorsCf = Bind(db, Keys.ReadCursors);
        _dedupCf = Bind(db, Keys.Dedup);
        _dedupExpiryCf = Bind(db, Keys.DedupExpiry);
        _usersCf = Bind(db, Keys.Users);
        _userNamesCf = Bind(db, Keys.UserNames);
        _devicesCf = Bind(db, Keys.Devices);
        _tokensCf = Bind(db, Keys.Tokens);
        _userTokensCf = Bind(db, Keys.UserTokens);
        _metaCf = Bind(db, Keys.Meta);
        lock (_familyNamesLock)
        {
            // Every family, including those other parts of the store look up by name, so Current maps any stale handle.
            foreach (var name in Keys.AllFamilies)
            {
                _familyNames[db.GetColumnFamily(name)] = name;
            }
        }
    }

    private static ColumnFamilyHandle Bind(RocksDb db, string name) => db.GetColumnFamily(name);

    /// <summary>
    /// The current handle for <paramref name="family"/>: a caller may have read a handle field before a reopen closed
    /// its database (a closed handle reads as zero); it is mapped to the same family of the open database.
    /// Call between <see cref="Enter"/> and <see cref="Exit"/>.
    /// </summary>
    private ColumnFamilyHandle Current(ColumnFamilyHandle family)
    {
        if (family.Handle != IntPtr.Zero)
        {
            return family;
        }

        string name;
        lock (_familyNamesLock)
        {
            name = _familyNames[family];
        }

        return _db.GetColumnFamily(name);
    }

    /// <summary>Records a failed database write (writer thread): the next items first try to recover.</summary>
    private void OnWriteFailed()
    {
        Interlocked.Increment(ref _failedWrites);
        if (!_needsReopen)
        {
            _needsReopen = true;
            _nextRecoveryAttempt = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>
    /// Called by the writer before it takes an item. Tries to recover when a failed write left the database needing a
    /// reopen and an attempt is due; returns false while the database is closed (the item must be failed).
    /// </summary>
    private bool EnsureWritable()
    {
        if (!_needsReopen)
        {
            return true;
        }

        if (Stopwatch.GetTimestamp() >= _nextRecoveryAttempt)
        {
            // Whatever is staged was checked against the old database and numbered from the old heads: finish it first.
            CommitBatch();
            if (!TryRecover())
            {
                _nextRecoveryAttempt = Stopwatch.GetTimestamp() + (long)(RecoveryInterval.TotalSeconds * Stopwatch.Frequency);
            }
        }

        return Volatile.Read(ref _dbState) == DbOpen;
    }

    /// <summary>Fails an item the writer cannot run because the database is closed.</summary>
    private void FailClosed(WorkItem item)
    {
        if (item is PendingAppend append)
        {
            append.Complete(new AppendResult(AppendStatus.Unavailable, null));
        }
        else if (item is WriterOperation operation)
        {
            operation.Fail(new StorageException($"The store cannot use '{_directory}' until its database reopens after a failed write. Check free disk space and permissions."));
        }
    }

    /// <summary>Probes the file system, then closes and reopens the database (writer thread). True when it is open and writable.</summary>
    private bool TryRecover()
    {
        if (!ProbeSpace())
        {
            return false;
        }

        // A full fence between publishing the state and reading the reader count (Enter does the mirror image).
        _dbGate.Reset();
        Interlocked.Exchange(ref _dbState, DbReopening);
        var spin = new SpinWait();
        while (Volatile.Read(ref _activeCalls) != 0)
        {
            spin.SpinOnce();
        }

        if (!ReferenceEquals(_db, _closedDb))
        {
            _db.Dispose();
            _closedDb = _db;
        }

        try
        {
            var db = RocksDb.Open(_dbOptions!, _directory, _families!);
            _db = db;
            BindFamilies(db);
            _closedDb = null;
        }
        catch (RocksDbSharpException)
        {
            Volatile.Write(ref _dbState, DbDown);
            _dbGate.Set();
            return false;
        }

        Volatile.Write(ref _dbState, DbOpen);
        _dbGate.Set();
        _needsReopen = false;
        Interlocked.Increment(ref _reopens);
        ReconcileAfterReopen();
        return true;
    }

    /// <summary>The database object that was closed and not yet replaced (the store is down); never used again.</summary>
    private RocksDb? _closedDb;

    /// <summary>True when a probe file of <see cref="RecoveryProbeBytes"/> can be written and fsynced in the data directory.</summary>
    private bool ProbeSpace()
    {
        var path = Path.Combine(_directory, ProbeFileName);
        try
        {
            using (var probe = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 64 * 1024))
            {
                var block = new byte[64 * 1024];
                for (var written = 0; written < RecoveryProbeBytes; written += block.Length)
                {
                    probe.Write(block);
                }

                probe.Flush(flushToDisk: true);
            }

            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
        finally
        {
            try
            {
                File.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Removed by the next probe.
            }
        }
    }

    /// <summary>
    /// Brings memory in line with what the reopened database holds: entries the WAL replay brought back are published
    /// and handed to <see cref="Committed"/>; the id counters never go back.
    /// </summary>
    private void ReconcileAfterReopen()
    {
        var grown = new List<(ConversationState State, ulong StoredHead)>();
        Scan(_conversationsCf, [], (key, value) =>
        {
            if (key.Length == 9 && key[8] == Keys.ConversationHeadTag
                && _conversations.TryGetValue(Keys.ReadU64(key), out var state))
            {
                var (_, head) = Codec.ReadEpochSeq(value);
                if (head > state.Head)
                {
                    grown.Add((state, head));
                }
            }
        });

        _nextConversationId = Math.Max(_nextConversationId, ReadCounter(Keys.NextConversationKey));
        var nextUser = ReadCounter(Keys.NextUserKey);
        if (nextUser > _nextUserId)
        {
            _nextUserId = nextUser;
            Interlocked.Exchange(ref _userCount, (long)(nextUser - 1));
        }

        if (grown.Count == 0)
        {
            return;
        }

        var recovered = new List<LogEntry>();
        foreach (var (state, storedHead) in grown)
        {
            recovered.AddRange(ReadSpan(state.ConversationId, state.Head + 1, storedHead));
            state.Head = storedHead;
            state.PendingHead = storedHead;
        }

        try
        {
            Committed?.Invoke(recovered);
        }
        catch (Exception)
        {
            // As for a batch: a faulty subscriber must not stop the log.
            Interlocked.Increment(ref _backgroundFailures);
        }
    }

    /// <summary>Waits while the database reopens; throws when it could not be reopened.</summary>
    private void WaitForDatabase()
    {
        if (!_dbGate.Wait(TimeSpan.FromSeconds(30)) || Volatile.Read(ref _dbState) == DbDown)
        {
            throw new StorageException($"The store cannot read '{_directory}': its database did not reopen after a failed write. Check free disk space and permissions.");
        }
    }
}
