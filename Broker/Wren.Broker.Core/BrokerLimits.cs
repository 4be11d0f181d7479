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

    /// <summary>Deliver frames one sync request streams before SyncDone with more = true. Default 1,000.</summary>
    public int MaxSyncBatch { get; set; } = 1000;

    /// <summary>Entries per history page. Default 100: one screen of chat with room to scroll.</summary>
    public int MaxHistoryPage { get; set; } = 100;

    /// <summary>Members per group. Default 10,000: large groups are fan-out on read, so the cost is delivery, not storage.</summary>
    public int MaxGroupMembers { get; set; } = 10_000;

    /// <summary>Conversations one user may belong to. Default 10,000: bounds the per-user index and SyncAll work.</summary>
    public int MaxConversationsPerUser { get; set; } = 10_000;

    /// <summary>Read receipts are pushed to the other members only in groups up to this size. Default 256; larger groups get the read cursor on the reader's own devices only.</summary>
    public int MaxReceiptFanOut { get; set; } = 256;

    /// <summary>Typing events accepted per device per second; excess events are dropped. Default 4.</summary>
    public int TypingPerSecond { get; set; } = 4;

    /// <summary>Sends accepted per device per second (token bucket, burst = 2 × rate). Default 200.</summary>
    public int SendsPerSecond { get; set; } = 200;

    /// <summary>
    /// Accept administrator operations from non-loopback addresses. Default false: administration happens on the
    /// broker's host (or through an SSH tunnel) unless the operator opts in.
    /// </summary>
    public bool AllowRemoteAdmin { get; set; }

    /// <summary>Number of routing partitions (single-consumer loops). Default: the processor count.</summary>
    public int Partitions { get; set; } = Environment.ProcessorCount;
}
