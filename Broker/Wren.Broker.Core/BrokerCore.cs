using Microsoft.Extensions.Logging;
using Wren.Protocol;
using Wren.Storage;

namespace Wren.Broker.Core;

/// <summary>
/// The routing core: sessions, conversations and delivery over a store. Transport-agnostic: the host creates one
/// <see cref="Session"/> per connection and feeds it frames.
/// </summary>
public sealed class BrokerCore : IAsyncDisposable
{
    private long _nextSessionId;
    private long _storageRefused;
    private long _storageReportedMs = long.MinValue / 2;
    private long _openSessions;

    /// <summary>Creates the core over a store. The store's commit hook is taken over by the core's router.</summary>
    /// <remarks>
    /// Online checkpoints (AdminCheckpoint) use <paramref name="checkpoint"/>, or else the log when it implements
    /// <see cref="IStoreCheckpoint"/>; without either, AdminCheckpoint is answered UnsupportedOperation. The audit log
    /// likewise uses <paramref name="audit"/> or the log when it implements <see cref="IAuditStore"/>.
    /// <paramref name="auth"/> sets token lifetimes, password hashing, throttling and OIDC (defaults when null).
    /// </remarks>
    public BrokerCore(
        IMessageLog log,
        IConversationStore conversations,
        ICursorStore cursors,
        IUserStore users,
        BrokerLimits limits,
        ProtocolLimits protocolLimits,
        TimeProvider time,
        ILoggerFactory loggerFactory,
        IStoreStatistics? statistics = null,
        IStoreCheckpoint? checkpoint = null,
        IAuditStore? audit = null,
        AuthOptions? auth = null)
    {
        protocolLimits.Validate();
        Log = log;
        Conversations = conversations;
        Cursors = cursors;
        Users = users;
        Limits = limits;
        ProtocolLimits = protocolLimits;
        Time = time;
        Statistics = statistics;
        Checkpoint = checkpoint ?? log as IStoreCheckpoint;
        StartedMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        Logger = loggerFactory.CreateLogger("Wren.Broker.Core");
        Audit = new AuditTrail(audit ?? log as IAuditStore, time, Logger);
        Registry = new DeviceRegistry(time);
        Authenticator = new Authenticator(users, time, auth ?? new AuthOptions(), Registry);
        Router = new Router(limits.Partitions, limits.MaxPendingOutboundBytes / 2, log, conversations, Registry, Logger);
        log.Committed = Router.OnCommitted;
    }

    internal IMessageLog Log { get; }

    internal IConversationStore Conversations { get; }

    internal ICursorStore Cursors { get; }

    internal IUserStore Users { get; }

    /// <summary>The limits in force.</summary>
    public BrokerLimits Limits { get; }

    /// <summary>The protocol limits in force.</summary>
    public ProtocolLimits ProtocolLimits { get; }

    internal TimeProvider Time { get; }

    internal IStoreStatistics? Statistics { get; }

    internal IStoreCheckpoint? Checkpoint { get; }

    /// <summary>
    /// Logs refused appends at most once a second with their count: a full disk refuses every send, and one Warning per
    /// send would flood the log exactly when the disk has no room for it.
    /// </summary>
    internal void ReportStorageUnavailable()
    {
        Interlocked.Increment(ref _storageRefused);
        long now = Environment.TickCount64;
        long last = Interlocked.Read(ref _storageReportedMs);
        if (now - last >= 1000 && Interlocked.CompareExchange(ref _storageReportedMs, now, last) == last)
        {
            CoreLog.StorageUnavailable(Logger, Interlocked.Exchange(ref _storageRefused, 0));
        }
    }

    /// <summary>The audit log of security-relevant events.</summary>
    public AuditTrail Audit { get; }

    /// <summary>Host operations administrators can ask for (TLS reload, key rotation); null when the host offers none.</summary>
    public IHostOperations? HostOperations { get; set; }

    /// <summary>Serializes administrators' role changes, so two concurrent demotions cannot remove a group's last owner.</summary>
    internal SemaphoreSlim RoleChanges { get; } = new(1, 1);

    /// <summary>Group settings, retracted and hidden messages: the conversation store when it implements <see cref="IModerationStore"/>.</summary>
    internal IModerationStore? Moderation => Conversations as IModerationStore;

    /// <summary>Sends per user, shared by all of the user's devices.</summary>
    internal KeyedRateLimiter<ulong> UserSends =>
        LazyInitializer.EnsureInitialized(ref field, () => new(Limits.SendsPerUserPerSecond, Limits.SendsPerUserPerSecond * 2));

    /// <summary>Conversations created or opened per user (CreateGroup, OpenDirect).</summary>
    internal KeyedRateLimiter<ulong> ConversationCreations =>
        LazyInitializer.EnsureInitialized(ref field, () => new(Limits.ConversationCreationsPerMinute / 60.0, Limits.ConversationCreationsPerMinute));

    internal long StartedMs { get; }

    /// <summary>Sessions created and not yet closed (authenticated or not).</summary>
    public long OpenSessions => Interlocked.Read(ref _openSessions);

    internal void SessionOpened() => Interlocked.Increment(ref _openSessions);

    internal void SessionClosed() => Interlocked.Decrement(ref _openSessions);

    internal ILogger Logger { get; }

    /// <summary>Online sessions.</summary>
    public DeviceRegistry Registry { get; }

    /// <summary>Token issue and checks.</summary>
    public Authenticator Authenticator { get; }

    /// <summary>Fan-out and catch-up.</summary>
    public Router Router { get; }

    /// <summary>True once shutdown has begun: new sessions are refused.</summary>
    public bool IsShuttingDown { get; private set; }

    /// <summary>Creates the session for a new connection.</summary>
    public Session CreateSession(IFrameSink sink) => new(this, sink, (ulong)Interlocked.Increment(ref _nextSessionId));

    internal long NowMs => Time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Sends GoAway to every session; they finish what they have started and the transport closes them.</summary>
    public void BeginShutdown(TimeSpan reconnectAfter)
    {
        if (IsShuttingDown)
        {
            return;
        }

        IsShuttingDown = true;
        var goAway = Frames.GoAway(reconnectAfter);
        foreach (var session in Registry.All())
        {
            session.Sink.Close(goAway);
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        Log.Committed = null;
        Authenticator.Dispose();
        await Router.DisposeAsync().ConfigureAwait(false);
        await Audit.DisposeAsync().ConfigureAwait(false);
    }
}
