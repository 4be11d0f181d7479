using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Wren.Storage;

namespace Wren.Broker.Core;

/// <summary>A security-relevant action recorded in the audit log.</summary>
public enum AuditAction : ushort
{
    /// <summary>A session authenticated.</summary>
    LoginSucceeded = 1,
    /// <summary>An authentication attempt failed.</summary>
    LoginFailed = 2,
    /// <summary>A login was refused by throttling.</summary>
    LoginThrottled = 3,
    /// <summary>A device token was issued.</summary>
    TokenIssued = 10,
    /// <summary>A device token was refreshed (the old one is revoked).</summary>
    TokenRefreshed = 11,
    /// <summary>A device token was revoked (logout or administrator).</summary>
    TokenRevoked = 12,
    /// <summary>A user was created.</summary>
    UserCreated = 20,
    /// <summary>A user was disabled.</summary>
    UserDisabled = 21,
    /// <summary>A user was enabled again.</summary>
    UserEnabled = 22,
    /// <summary>A password was set or changed.</summary>
    PasswordChanged = 23,
    /// <summary>TOTP MFA was enabled.</summary>
    MfaEnabled = 24,
    /// <summary>TOTP MFA was disabled.</summary>
    MfaDisabled = 25,
    /// <summary>A member's role in a group changed.</summary>
    RoleChanged = 30,
    /// <summary>Members were added to a group.</summary>
    MembersAdded = 31,
    /// <summary>Members were removed from a group.</summary>
    MembersRemoved = 32,
    /// <summary>A group's settings changed.</summary>
    GroupSettingsChanged = 33,
    /// <summary>A message was recalled.</summary>
    MessageRecalled = 40,
    /// <summary>A message was deleted by a moderator.</summary>
    MessageDeleted = 41,
    /// <summary>Another administrator action (inspect log, checkpoint, …).</summary>
    AdminAction = 50,
    /// <summary>The at-rest encryption key was rotated.</summary>
    KeyRotated = 51,
    /// <summary>The TLS certificate was reloaded.</summary>
    TlsReloaded = 52,
    /// <summary>A TLS certificate reload was refused (the new file is unusable; the old certificate stays).</summary>
    TlsReloadFailed = 53,
}

/// <summary>One audit record.</summary>
/// <param name="Action">What happened.</param>
/// <param name="ActorUserId">Who did it (0 = anonymous or the server).</param>
/// <param name="ActorDeviceId">The actor's device (0 when unknown).</param>
/// <param name="SubjectUserId">Whom it concerns (0 when nobody in particular).</param>
/// <param name="ConversationId">The conversation it concerns (0 when none).</param>
/// <param name="Detail">Short free text (never a secret).</param>
/// <param name="RemoteAddress">The actor's address, when known.</param>
public readonly record struct AuditEvent(
    AuditAction Action,
    ulong ActorUserId,
    uint ActorDeviceId,
    ulong SubjectUserId,
    ulong ConversationId,
    string? Detail,
    string? RemoteAddress);

/// <summary>Records security-relevant events in the durable, append-only audit log.</summary>
/// <remarks>
/// <para>
/// <see cref="Record"/> stamps the time and puts the event on a bounded in-memory queue; one background task drains the
/// queue into <see cref="IAuditStore.AppendAuditAsync"/>, many events per write (one fsync per batch in Sync mode).
/// <see cref="DisposeAsync"/> completes the queue and waits until everything queued is written, so a normal shutdown
/// loses nothing.
/// </para>
/// <para>
/// Crash window: events recorded but not yet written when the process dies are lost — at most the queue's content,
/// in practice the events of the last write (a few milliseconds). When the queue is full (<see cref="QueueCapacity"/>
/// events, i.e. the store is stalled), further events are counted in <see cref="Dropped"/> and logged, never blocking
/// the caller.
/// </para>
/// </remarks>
public sealed partial class AuditTrail : IAsyncDisposable
{
    /// <summary>
    /// Events waiting for the store. 65,536: a stalled disk for a minute at 1,000 logins per second still fits, and
    /// the queue then holds a few MiB at most.
    /// </summary>
    public const int QueueCapacity = 65_536;

    /// <summary>Most events in one store write.</summary>
    private const int MaxBatch = 512;

    /// <summary>Longest detail or address kept, in characters.</summary>
    private const int MaxTextChars = 256;

    private readonly Channel<AuditRecord> _queue = Channel.CreateBounded<AuditRecord>(new BoundedChannelOptions(QueueCapacity)
    {
        SingleReader = true,

        // Wait mode makes TryWrite return false when the queue is full (the drop modes report success), so a drop is
        // counted; Record never calls the waiting WriteAsync.
        FullMode = BoundedChannelFullMode.Wait,
    });

    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Task _drain;
    private long _recorded;
    private long _written;
    private long _dropped;
    private long _failed;
    private volatile bool _closed;

    /// <summary>An audit trail that keeps nothing (no store): events are only counted.</summary>
    public AuditTrail()
        : this(null, TimeProvider.System, NullLogger.Instance)
    {
    }

    /// <summary>An audit trail that writes to <paramref name="store"/> (null: events are only counted).</summary>
    public AuditTrail(IAuditStore? store, TimeProvider time, ILogger logger)
    {
        Store = store;
        _time = time;
        _logger = logger;
        _drain = store is null ? Task.CompletedTask : Task.Run(DrainAsync);
    }

    /// <summary>Where events are kept; null when the broker runs without one.</summary>
    public IAuditStore? Store { get; }

    /// <summary>Events recorded since start.</summary>
    public long Recorded => Interlocked.Read(ref _recorded);

    /// <summary>Events written to the store since start.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Events lost because the queue was full or the trail was closed.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Events lost because the store refused the write.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Records one event. Never throws and never blocks the caller on I/O.</summary>
    public void Record(in AuditEvent auditEvent)
    {
        Interlocked.Increment(ref _recorded);
        if (Store is null)
        {
            return;
        }

        var record = new AuditRecord(
            0,
            _time.GetUtcNow().ToUnixTimeMilliseconds(),
            (ushort)auditEvent.Action,
            auditEvent.ActorUserId,
            auditEvent.ActorDeviceId,
            auditEvent.SubjectUserId,
            auditEvent.ConversationId,
            Cut(auditEvent.Detail),
            Cut(auditEvent.RemoteAddress));
        if (!_queue.Writer.TryWrite(record))
        {
            // Log the first drop and then every 1,000th, so a stalled store cannot flood the log. After shutdown began
            // (the queue is closed) a late event is only counted.
            if (Interlocked.Increment(ref _dropped) % 1000 == 1 && !_closed)
            {
                AuditDropped(_logger, Dropped);
            }
        }
    }

    /// <summary>Stops accepting events and waits until every queued event is written.</summary>
    public async ValueTask DisposeAsync()
    {
        _closed = true;
        _queue.Writer.TryComplete();
        await _drain.ConfigureAwait(false);
    }

    private async Task DrainAsync()
    {
        var batch = new List<AuditRecord>(MaxBatch);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < MaxBatch && reader.TryRead(out var record))
            {
                batch.Add(record);
            }

            try
            {
                await Store!.AppendAuditAsync(batch).ConfigureAwait(false);
                Interlocked.Add(ref _written, batch.Count);
            }
            catch (Exception ex)
            {
                Interlocked.Add(ref _failed, batch.Count);
                AuditWriteFailed(_logger, ex, batch.Count);
            }
        }
    }

    private static string Cut(string? text) =>
        string.IsNullOrEmpty(text) ? "" : text.Length <= MaxTextChars ? text : text[..MaxTextChars];

    [LoggerMessage(1700, LogLevel.Error, "The audit log could not write {Count} events; they are lost")]
    private static partial void AuditWriteFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(1701, LogLevel.Warning, "The audit queue is full: {Dropped} events dropped so far (the store is not keeping up)")]
    private static partial void AuditDropped(ILogger logger, long dropped);
}
