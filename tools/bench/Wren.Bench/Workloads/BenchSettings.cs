using Wren.Bench.Core;

namespace Wren.Bench.Workloads;

/// <summary>Every workload parameter, with its default; read from the command line.</summary>
public sealed record BenchSettings
{
    /// <summary>Server under test: wren, jetstream, nats, redis, mosquitto.</summary>
    public string Target { get; init; } = "wren";

    /// <summary>Peer server port on 127.0.0.1 (peers only; Wren is started by the generator).</summary>
    public int Port { get; init; }

    /// <summary>Peer server process id, for its CPU and memory (peers only).</summary>
    public int Pid { get; init; }

    /// <summary>Path of Wren.Broker.dll.</summary>
    public string BrokerDll { get; init; } = "";

    /// <summary>Fixed rate (messages/s) for W1/W2; 0 with <see cref="Sweep"/>.</summary>
    public double Rate { get; init; } = 1000;

    /// <summary>Search for the highest rate whose ack p99 stays under <see cref="Criteria"/>.</summary>
    public bool Sweep { get; init; }

    /// <summary>The sweep's plan.</summary>
    public RateSweep SweepPlan { get; init; } = new();

    /// <summary>Pass criteria of one window.</summary>
    public PassCriteria Criteria { get; init; } = new();

    /// <summary>Window timing and body size.</summary>
    public OpenLoopOptions Window { get; init; } = new();

    /// <summary>W1: user pairs (each user with two devices).</summary>
    public int Pairs { get; init; } = 8;

    /// <summary>W2: group members (one connection each).</summary>
    public int Members { get; init; } = 1000;

    /// <summary>W2: members that send.</summary>
    public int Senders { get; init; } = 4;

    /// <summary>W3: messages missed by the reconnecting device.</summary>
    public int Messages { get; init; } = 100_000;

    /// <summary>W3: conversations they are spread over.</summary>
    public int Conversations { get; init; } = 100;

    /// <summary>
    /// W3: how many times the backlog is replayed, each time to a reader that has not read it yet; the note lists every
    /// replay. 1 reports that replay, 2 the second (the first warms up the server and client: JIT, caches, as on a server
    /// that has been running for a while), 3 or more the median of all but the first (see <c>CatchUp.Report</c>).
    /// </summary>
    public int Replays { get; init; } = 1;

    /// <summary>W4: idle connections.</summary>
    public int IdleConnections { get; init; } = 15_000;

    /// <summary>W4: connections per child generator process.</summary>
    public int PerProcess { get; init; } = 5000;

    /// <summary>
    /// W4 on Wren: bytes of one message each connection sends to a direct conversation with its neighbour before it
    /// idles (so it also receives two messages of that size: its own copy and the neighbour's); 0 sends nothing.
    /// </summary>
    public int Traffic { get; init; }

    /// <summary>W4: seconds to hold the connections before measuring memory.</summary>
    public double SettleSeconds { get; init; } = 5;

    /// <summary>W5: concurrent connect loops.</summary>
    public int Concurrency { get; init; } = 32;

    /// <summary>Overrides the durability text of the results (the peer's actual setting, e.g. its server version's).</summary>
    public string? Durability { get; init; }

    /// <summary>A label for the workload in reports (e.g. W2-10k); defaults to the command.</summary>
    public string? Label { get; init; }
}
