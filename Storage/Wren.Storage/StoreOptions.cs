namespace Wren.Storage;

/// <summary>Settings of a <see cref="WrenStore"/>.</summary>
/// <remarks>Validated by <see cref="WrenStore.Open"/>; an invalid value throws <see cref="ArgumentException"/>.</remarks>
public sealed class StoreOptions
{
    /// <summary>Largest accepted client message id, in UTF-8 bytes (the value is stored in every entry and dedup key).</summary>
    public const int MaxClientMsgIdBytes = 1024;

    /// <summary>
    /// The RocksDB directory. Created when missing. Default <c>./data</c>, the broker's default <c>--data-dir</c>.
    /// </summary>
    public string DataDirectory { get; set; } = "./data";

    /// <summary>
    /// When an append counts as durable. Default <see cref="DurabilityMode.Sync"/>: an acknowledged message survives a
    /// power failure, which is the broker's promise; group commit keeps the fsync cost per message small.
    /// </summary>
    public DurabilityMode Durability { get; set; } = DurabilityMode.Sync;

    /// <summary>
    /// Most appends in one group-commit batch. Default 1024: large enough that one fsync serves every append that
    /// arrives during the previous fsync at hundreds of thousands of messages per second, small enough that the
    /// completions of one batch do not delay the next one noticeably.
    /// </summary>
    public int MaxBatchCount { get; set; } = 1024;

    /// <summary>
    /// Most value bytes in one group-commit batch (one append is always admitted, whatever its size). Default 4 MiB:
    /// bounds the memory of a batch and the WAL write per fsync; at 4 MiB a batch of large messages still takes about
    /// as long to write as one fsync on an SSD.
    /// </summary>
    public int MaxBatchBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// Most appends and store operations queued for the writer. When full, <see cref="IMessageLog.AppendAsync(AppendRequest, CancellationToken)"/>
    /// waits (back-pressure). Default 65,536: several full batches, so the writer never starves, while a stalled disk
    /// bounds queued memory to that many requests.
    /// </summary>
    public int MaxQueuedOperations { get; set; } = 65_536;

    /// <summary>
    /// How long a (sender, client message id) pair is remembered for idempotent retries. Default 24 hours: covers a
    /// device that was offline for a day and resends its outbox on reconnect, at a cost of one small record per message.
    /// </summary>
    public TimeSpan DedupWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// How often expired dedup records are deleted in the background. Default 1 minute: expired records are already
    /// ignored on lookup, so this only bounds disk use; each sweep is one bounded range scan of the expiry index.
    /// </summary>
    public TimeSpan DedupSweepInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How often changed cursors are written (without fsync; the next group commit or <see cref="ICursorStore.FlushAsync"/>
    /// makes them durable). Default 200 ms: one small write five times a second whatever the ack rate, and after a
    /// crash a device re-receives at most about that much, which client dedup by seq absorbs.
    /// </summary>
    public TimeSpan CursorFlushInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Most files RocksDB keeps open. Default 512: the broker process has a hard open-files limit shared with client
    /// connections, so the store takes a fixed, small share instead of RocksDB's unlimited default.
    /// </summary>
    public int MaxOpenFiles { get; set; } = 512;

    /// <summary>
    /// Size of the block cache shared by every column family. Default 64 MiB: holds the index and filter blocks and the
    /// recent message blocks that catch-up reads, on a small server.
    /// </summary>
    public long BlockCacheBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>At-rest encryption of message bodies. Default null: off (the disk is trusted or encrypted below).</summary>
    public EncryptionOptions? Encryption { get; set; }

    /// <summary>Clock for server times, dedup expiry and timers. Default <see cref="TimeProvider.System"/>; tests pass a fake.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Test hook, never set in production: the writer assigns seqs, calls <see cref="WrenStore.Committed"/> and
    /// completes the appends of a batch <em>before</em> writing it, and waits <see cref="TestAckBeforeWriteDelay"/>
    /// before the write. It exists only so that crash harnesses can prove they detect acknowledged appends that a
    /// SIGKILL loses (their negative control); readers still see only written entries (the head moves after the write).
    /// </summary>
    internal bool TestAckBeforeWrite { get; set; }

    /// <summary>How long <see cref="TestAckBeforeWrite"/> holds each acknowledged batch back before writing it. Default 200 ms.</summary>
    internal TimeSpan TestAckBeforeWriteDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            throw new ArgumentException("DataDirectory must be set.", nameof(DataDirectory));
        }

        Positive(MaxBatchCount, nameof(MaxBatchCount));
        Positive(MaxBatchBytes, nameof(MaxBatchBytes));
        Positive(MaxQueuedOperations, nameof(MaxQueuedOperations));
        Positive(MaxOpenFiles, nameof(MaxOpenFiles));
        if (BlockCacheBytes <= 0)
        {
            throw new ArgumentException("BlockCacheBytes must be positive.", nameof(BlockCacheBytes));
        }

        if (DedupWindow <= TimeSpan.Zero || DedupSweepInterval <= TimeSpan.Zero || CursorFlushInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException("DedupWindow, DedupSweepInterval and CursorFlushInterval must be positive.");
        }

        if (!Enum.IsDefined(Durability))
        {
            throw new ArgumentException("Unknown durability mode.", nameof(Durability));
        }

        ArgumentNullException.ThrowIfNull(TimeProvider);
        Encryption?.Validate();
    }

    private static void Positive(int value, string name)
    {
        if (value <= 0)
        {
            throw new ArgumentException(name + " must be positive.", name);
        }
    }
}

/// <summary>At-rest encryption of message bodies with AES-256-GCM.</summary>
/// <remarks>
/// Each record carries the id of the key that sealed it, so keys rotate by adding a new key and making it active: new
/// records use the active key, older records stay readable as long as their key is still configured. A key can be
/// removed only after every record sealed with it has been rewritten or deleted.
/// </remarks>
public sealed class EncryptionOptions
{
    /// <summary>The keys by id; each key is 32 bytes (AES-256).</summary>
    public IDictionary<byte, byte[]> Keys { get; init; } = new Dictionary<byte, byte[]>();

    /// <summary>The id of the key that seals new records; must be in <see cref="Keys"/>.</summary>
    public byte ActiveKeyId { get; set; }

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Keys);
        foreach (var (id, key) in Keys)
        {
            if (key is null || key.Length != 32)
            {
                throw new ArgumentException($"Encryption key {id} must be 32 bytes.", nameof(Keys));
            }
        }

        if (!Keys.ContainsKey(ActiveKeyId))
        {
            throw new ArgumentException($"The active key id {ActiveKeyId} is not among the configured keys.", nameof(ActiveKeyId));
        }
    }
}
