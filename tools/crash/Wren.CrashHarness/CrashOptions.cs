namespace Wren.CrashHarness;

/// <summary>The fault the harness injects.</summary>
public enum FaultMode
{
    /// <summary>SIGKILL the broker and start it again on the same data directory and port.</summary>
    Kill,

    /// <summary>SIGSTOP the broker for a random time, then SIGCONT it (the process and its connections stay).</summary>
    Pause,
}

/// <summary>What the crash harness runs: load, fault schedule and the broker to run it against.</summary>
public sealed class CrashOptions
{
    /// <summary>Path of the built broker (<c>Wren.Broker.dll</c>); the harness builds nothing.</summary>
    public string BrokerPath { get; set; } = "";

    /// <summary>How long load and kills run. Default 60 s.</summary>
    public TimeSpan Duration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Kill (default) or pause.</summary>
    public FaultMode Fault { get; set; } = FaultMode.Kill;

    /// <summary>Shortest pause (SIGSTOP to SIGCONT) in pause mode. Default 5 s.</summary>
    public TimeSpan PauseMin { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest pause in pause mode. Default 30 s.</summary>
    public TimeSpan PauseMax { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The broker's ping interval (<c>Wren:Limits:PingInterval</c>), announced to clients in Welcome. Null: the broker's
    /// default in kill mode, 1 s in pause mode, so clients notice a stopped broker well within the shortest pause.
    /// </summary>
    public TimeSpan? BrokerPingInterval { get; set; }

    /// <summary>The broker's idle timeout (<c>Wren:Limits:IdleTimeout</c>); SDK clients drop a connection silent for this long. Null: default in kill mode, 3 s in pause mode.</summary>
    public TimeSpan? BrokerIdleTimeout { get; set; }

    /// <summary>The load clients' RequestTimeout (handshake and requests). Null: 30 s in kill mode, 5 s in pause mode.</summary>
    public TimeSpan? ClientRequestTimeout { get; set; }

    /// <summary>Mean time between kills (in pause mode: between the end of one pause and the start of the next). Default 10 s (the "every 10 ± 5 s").</summary>
    public TimeSpan KillEvery { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Uniform jitter around <see cref="KillEvery"/>. Default 5 s.</summary>
    public TimeSpan KillJitter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Sending clients, one user and device each. Default 8.</summary>
    public int Clients { get; set; } = 8;

    /// <summary>Sends per second per client (open loop). Default 25: 200 msg/s with 8 clients, below the broker's per-device limit of 200.</summary>
    public double Rate { get; set; } = 25;

    /// <summary>Group conversations every client sends to. Default 4, so clients share conversations and contend for seqs.</summary>
    public int Conversations { get; set; } = 4;

    /// <summary>Message body size in bytes. Default 64.</summary>
    public int BodyBytes { get; set; } = 64;

    /// <summary>Acknowledged messages re-sent with their original id after each restart (each must come back Duplicate with its seq). Default 20.</summary>
    public int ResendSample { get; set; } = 20;

    /// <summary>Sends one client may have waiting for an ack; ticks beyond it are skipped (counted). Default 2,000.</summary>
    public int MaxInFlightPerClient { get; set; } = 2000;

    /// <summary>Start the broker with <c>Wren:Testing:AckBeforeDurable</c> (negative control: losses are expected).</summary>
    public bool AckBeforeDurable { get; set; }

    /// <summary>Seed of the kill schedule and the load. Default: random (reported).</summary>
    public int? Seed { get; set; }

    /// <summary>How long a restarted broker may take to accept a write before the run fails. Default 60 s.</summary>
    public TimeSpan AcceptTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long the end of the run waits for pending sends to be acknowledged. Default 60 s.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Data directory; default a new temporary directory, deleted at the end unless <see cref="KeepData"/>.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>Keep the data directory after the run (for inspection).</summary>
    public bool KeepData { get; set; }

    /// <summary>Where progress lines go; null for none.</summary>
    public TextWriter? Log { get; set; }

    internal TimeSpan? EffectivePingInterval => BrokerPingInterval ?? (Fault == FaultMode.Pause ? TimeSpan.FromSeconds(1) : null);

    internal TimeSpan? EffectiveIdleTimeout => BrokerIdleTimeout ?? (Fault == FaultMode.Pause ? TimeSpan.FromSeconds(3) : null);

    internal TimeSpan EffectiveRequestTimeout => ClientRequestTimeout ?? TimeSpan.FromSeconds(Fault == FaultMode.Pause ? 5 : 30);

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(BrokerPath) || !File.Exists(BrokerPath))
        {
            throw new ArgumentException($"The broker dll '{BrokerPath}' does not exist; build Broker/Wren.Broker first.", nameof(BrokerPath));
        }

        if (Clients < 1 || Rate <= 0 || Conversations < 1 || BodyBytes < 16 || ResendSample < 0 || MaxInFlightPerClient < 1)
        {
            throw new ArgumentException("Clients, Rate, Conversations, MaxInFlightPerClient must be positive, BodyBytes at least 16 and ResendSample not negative.");
        }

        if (Fault == FaultMode.Pause && (PauseMin <= TimeSpan.Zero || PauseMax < PauseMin))
        {
            throw new ArgumentException("PauseMin must be positive and PauseMax at least PauseMin.");
        }

        if (BrokerIdleTimeout is { } idle && (idle <= TimeSpan.Zero || (BrokerPingInterval is { } ping && (ping <= TimeSpan.Zero || ping >= idle))))
        {
            throw new ArgumentException("BrokerIdleTimeout must be positive and BrokerPingInterval shorter than it.");
        }

        if (Duration <= TimeSpan.Zero || KillEvery <= TimeSpan.Zero || KillJitter < TimeSpan.Zero || KillJitter >= KillEvery)
        {
            throw new ArgumentException("Duration and KillEvery must be positive and KillJitter smaller than KillEvery.");
        }
    }
}
