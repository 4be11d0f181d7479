namespace Wren.Broker.Core;

/// <summary>Limits the routing core enforces. Each default says why it has that value.</summary>
public sealed class BrokerLimits
{
    /// <summary>
    /// Bytes queued for one connection before it is closed with SlowConsumer. Default 4 MiB: a few seconds of a busy
    /// group at typical message sizes; a device that falls further behind resumes from its cursor instead.
    /// </summary>
    public int MaxPendingOutboundBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Time from accept to AuthOk. Default 10 s: a TLS handshake and two round trips on a poor mobile link.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Silence after which the server pings. Default 30 s: below common NAT idle timeouts.</summary>
    public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Silence after which the connection is closed. Default 90 s: three missed ping intervals.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary>
    /// Deliver frames one sync request streams before SyncDone with more = true. Default 10,000: a device back from a
    /// long absence catches up in few round trips (W3: 100k messages take 10 requests, not 100), while the stream still
    /// waits for the connection's soft outbound limit between batches.
    /// </summary>
    public int MaxSyncBatch { get; set; } = 10_000;

    /// <summary>Entries per history page. Default 100: one screen of chat with room to scroll.</summary>
    public int MaxHistoryPage { get; set; } = 100;

    /// <summary>Members per group. Default 10,000: large groups are fan-out on read, so the cost is delivery, not storage.</summary>
    public int MaxGroupMembers { get; set; } = 10_000;

    /// <summary>Conversations one user may belong to. Default 10,000: bounds the per-user index and SyncAll work.</summary>
    public int MaxConversationsPerUser { get; set; } = 10_000;

    /// <summary>Read receipts are pushed to the other members only in groups up to this size. Default 256; larger groups get the read cursor on the reader's own devices only.</summary>
    public int MaxReceiptFanOut { get; set; } = 256;

    /// <summary>Typing events accepted per device per second; excess events are answered RateLimited (a push when sent without a request id). Default 4.</summary>
    public int TypingPerSecond { get; set; } = 4;

    /// <summary>Sends accepted per device per second (token bucket, burst = 2 × rate). Default 200.</summary>
    public int SendsPerSecond { get; set; } = 200;

    /// <summary>
    /// Sends accepted per user per second over all of the user's devices (token bucket, burst = 2 × rate); Send, Recall,
    /// Edit and Delete count. Default 400: two busy devices at the per-device rate; a user with many devices cannot
    /// multiply the per-device limit. 0 disables it.
    /// </summary>
    public int SendsPerUserPerSecond { get; set; } = 400;

    /// <summary>
    /// CreateGroup and OpenDirect requests per user per minute (token bucket, burst = the per-minute rate). Default 30:
    /// far above what a person does by hand, low enough that a script cannot fill the conversation table. 0 disables it.
    /// </summary>
    public int ConversationCreationsPerMinute { get; set; } = 30;

    /// <summary>
    /// New connections accepted per client address per second (token bucket, burst = 2 × rate); excess connections get
    /// Error{RateLimited} with a retry-after and are closed right after TLS. Default 50: every device of an office
    /// behind one NAT reconnecting after a broker restart stays under it; one host hammering the listener does not.
    /// 0 disables it.
    /// </summary>
    public int ConnectionsPerAddressPerSecond { get; set; } = 50;

    /// <summary>
    /// Apply <see cref="ConnectionsPerAddressPerSecond"/> to loopback addresses too. Default false: the broker's own
    /// tools, load generators and SSH tunnels connect from loopback (MaxConnectionsPerAddress still caps them).
    /// </summary>
    public bool LimitLoopbackConnectionRate { get; set; }

    /// <summary>
    /// How long after sending a member may recall their own message. Default 2 minutes (as common messengers allow);
    /// group admins and owners recall any message at any time. Zero means members cannot recall.
    /// </summary>
    public TimeSpan RecallWindow { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Accept administrator operations from non-loopback addresses. Default false: administration happens on the
    /// broker's host (or through an SSH tunnel) unless the operator opts in.
    /// </summary>
    public bool AllowRemoteAdmin { get; set; }

    /// <summary>Number of routing partitions (single-consumer loops). Default: the processor count.</summary>
    public int Partitions { get; set; } = Environment.ProcessorCount;
}
