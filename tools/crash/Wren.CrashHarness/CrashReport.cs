namespace Wren.CrashHarness;

/// <summary>
/// The outcome of a run, Jepsen-style: what was acknowledged, and how the final history (read from a fresh device)
/// compares with it.
/// </summary>
public sealed class CrashReport
{
    /// <summary>"durable" or "ack-before-durable" (the negative control).</summary>
    public string Mode { get; set; } = "durable";

    /// <summary>"kill" (SIGKILL and restart) or "pause" (SIGSTOP, SIGCONT).</summary>
    public string Fault { get; set; } = "kill";

    /// <summary>Seed of the kill schedule and load.</summary>
    public int Seed { get; set; }

    /// <summary>Sending clients.</summary>
    public int Clients { get; set; }

    /// <summary>Sends per second per client.</summary>
    public double Rate { get; set; }

    /// <summary>Group conversations.</summary>
    public int Conversations { get; set; }

    /// <summary>Seconds of load with faults.</summary>
    public double DurationSeconds { get; set; }

    /// <summary>Distinct client message ids sent (load and restart probes; a re-send of an acknowledged id counts once).</summary>
    public int Sent { get; set; }

    /// <summary>Distinct client message ids that got a SendAck.</summary>
    public int Acknowledged { get; set; }

    /// <summary>Acknowledged, but the final history does not hold that id at the acknowledged conversation and seq.</summary>
    public int Lost { get; set; }

    /// <summary>Of <see cref="Lost"/>: the id is stored, but at another seq than the one acknowledged.</summary>
    public int LostButStoredElsewhere { get; set; }

    /// <summary>Extra copies: entries beyond the first with the same (sender, client message id).</summary>
    public int Duplicated { get; set; }

    /// <summary>Entries whose id was never sent, or whose conversation or body differs from what was sent.</summary>
    public int Unexpected { get; set; }

    /// <summary>Sent, never acknowledged (the ack or the send was cut off by a crash), yet stored: allowed.</summary>
    public int Recovered { get; set; }

    /// <summary>Sent, never acknowledged and not stored: allowed (the client saw no ack).</summary>
    public int NotStored { get; set; }

    /// <summary>Missing or out-of-order seqs in the conversation logs.</summary>
    public int SeqGaps { get; set; }

    /// <summary>Entries read back from the fresh device.</summary>
    public int StoredEntries { get; set; }

    /// <summary>SIGKILLs delivered (including the final one after the load stops).</summary>
    public int Kills { get; set; }

    /// <summary>SIGSTOP/SIGCONT pauses delivered (pause mode, including the final one after the load stops).</summary>
    public int Pauses { get; set; }

    /// <summary>Pauses during which the broker was found running (continued by someone else) and stopped again.</summary>
    public int PausesInterrupted { get; set; }

    /// <summary>Length of each pause in seconds.</summary>
    public List<double> PauseSeconds { get; set; } = [];

    /// <summary>Pause mode: largest time from a SIGCONT until every load client had received an ack again.</summary>
    public double MaxResumeToAllClientsMs { get; set; }

    /// <summary>Reconnects of the load clients over the run.</summary>
    public int ClientReconnects { get; set; }

    /// <summary>Connections the load clients dropped because nothing arrived for the idle timeout.</summary>
    public int ClientIdleDrops { get; set; }

    /// <summary>Pause mode: deliveries the reading device received (each seq once).</summary>
    public int ReaderDelivered { get; set; }

    /// <summary>Pause mode: deliveries past the next expected seq on the reading device.</summary>
    public int ReaderGaps { get; set; }

    /// <summary>Pause mode: deliveries of a seq the reading device already had.</summary>
    public int ReaderRepeats { get; set; }

    /// <summary>Pause mode: stored entries the reading device never received.</summary>
    public int ReaderMissing { get; set; }

    /// <summary>Pause mode: reconnects of the reading device.</summary>
    public int ReaderReconnects { get; set; }

    /// <summary>Pause mode: connections the reading device dropped as idle.</summary>
    public int ReaderIdleDrops { get; set; }

    /// <summary>Per restart (pause mode: per SIGCONT): milliseconds from starting the new process to the first acknowledged write.</summary>
    public List<double> TimeToAcceptMs { get; set; } = [];

    /// <summary>Largest of <see cref="TimeToAcceptMs"/>.</summary>
    public double MaxTimeToAcceptMs { get; set; }

    /// <summary>Largest time from a kill to the first acknowledged write after it (includes the restart of the process).</summary>
    public double MaxKillToAcceptMs { get; set; }

    /// <summary>Sends waiting for their ack when a kill hit (pause mode: at the SIGCONT); the SDK resends them after reconnecting, with the same id.</summary>
    public int InFlightAtKill { get; set; }

    /// <summary>Of <see cref="InFlightAtKill"/>: acknowledged later and stored exactly once at the acknowledged seq.</summary>
    public int RetriesResolved { get; set; }

    /// <summary>Of <see cref="RetriesResolved"/>: the retry was answered Duplicate, i.e. the first attempt had been stored before the crash and the retry resolved to its original seq.</summary>
    public int RetriesResolvedToOriginalSeq { get; set; }

    /// <summary>Of <see cref="InFlightAtKill"/>: never acknowledged by the end of the run.</summary>
    public int RetriesUnresolved { get; set; }

    /// <summary>Already-acknowledged messages re-sent with their original id after restarts.</summary>
    public int ResendsChecked { get; set; }

    /// <summary>Of <see cref="ResendsChecked"/>: answered Duplicate with the original seq.</summary>
    public int ResendsOriginalSeq { get; set; }

    /// <summary>Of <see cref="ResendsChecked"/>: answered otherwise (new seq, not Duplicate, error or timeout).</summary>
    public int ResendMismatches { get; set; }

    /// <summary>Load ticks skipped because a client already had <see cref="CrashOptions.MaxInFlightPerClient"/> sends pending.</summary>
    public int SkippedTicks { get; set; }

    /// <summary>Sends that ended with an error instead of an ack (counted, not a failure by themselves).</summary>
    public int SendErrors { get; set; }

    /// <summary>Lines the broker logged at warning level or above (across all its runs).</summary>
    public int BrokerWarnings { get; set; }

    /// <summary>Lines the broker logged at error level or above (across all its runs).</summary>
    public int BrokerErrors { get; set; }

    /// <summary>The sum that decides the exit code: lost + duplicated + unexpected + seq gaps + resend mismatches (+ the reading device's gaps, repeats and missing entries in pause mode).</summary>
    public int Failures => Lost + Duplicated + Unexpected + SeqGaps + ResendMismatches + ReaderGaps + ReaderRepeats + ReaderMissing;

    /// <summary>True when nothing acknowledged was lost, duplicated or moved and no garbage or gap was found.</summary>
    public bool Passed => Failures == 0;

    /// <summary>The first problems found, as examples.</summary>
    public List<string> Problems { get; set; } = [];

    /// <summary>The first warning and error lines of the broker, as examples.</summary>
    public List<string> BrokerLogSamples { get; set; } = [];

    /// <summary>A one-paragraph, human-readable summary.</summary>
    public override string ToString() =>
        $"mode {Mode}, fault {Fault}, seed {Seed}: {Clients} clients × {Rate:0.#}/s over {Conversations} conversations for {DurationSeconds:0} s, " +
        (Fault == "pause" ? $"{Pauses} pauses ({string.Join(", ", PauseSeconds.Select(p => p.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)))} s)\n" : $"{Kills} kills\n") +
        $"sent {Sent}, acknowledged {Acknowledged}, lost {Lost} (stored elsewhere {LostButStoredElsewhere}), duplicated {Duplicated}, " +
        $"unexpected {Unexpected}, recovered {Recovered}, not stored {NotStored}, seq gaps {SeqGaps}, stored entries {StoredEntries}\n" +
        (Fault == "pause" ? "" : $"time to accept after restart: max {MaxTimeToAcceptMs:0} ms (from the kill: max {MaxKillToAcceptMs:0} ms); ") +
        $"in flight at a {Fault} {InFlightAtKill}: resolved {RetriesResolved} ({RetriesResolvedToOriginalSeq} to their original seq), unresolved {RetriesUnresolved}; " +
        $"re-sent acknowledged ids {ResendsChecked}: original seq {ResendsOriginalSeq}, mismatches {ResendMismatches}\n" +
        (Fault == "pause"
            ? $"pause: interrupted {PausesInterrupted}, writes accepted max {MaxTimeToAcceptMs:0} ms after a SIGCONT, every load client acknowledged again within {MaxResumeToAllClientsMs:0} ms; " +
              $"load clients reconnected {ClientReconnects} times ({ClientIdleDrops} idle drops); reading device: {ReaderDelivered} delivered, " +
              $"gaps {ReaderGaps}, repeats {ReaderRepeats}, missing {ReaderMissing}, reconnects {ReaderReconnects} ({ReaderIdleDrops} idle drops)\n"
            : "") +
        $"send errors {SendErrors}, skipped ticks {SkippedTicks}, broker warnings {BrokerWarnings}, broker errors {BrokerErrors}\n" +
        (Passed ? "PASSED" : $"FAILED: {Failures} failures");
}
