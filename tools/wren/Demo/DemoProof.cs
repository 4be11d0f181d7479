using Wren.Protocol.Messages;

namespace Wren.Cli.Demo;

/// <summary>One device's history of one conversation compared with the broker's log.</summary>
/// <param name="Device">Device name, e.g. "bob-phone".</param>
/// <param name="Conversation">Conversation label.</param>
/// <param name="Messages">Entries the device holds.</param>
/// <param name="LastSeq">Highest seq it holds (0 = none).</param>
/// <param name="GapFree">Its seqs are exactly 1, 2, …, n: nothing missing, nothing twice.</param>
/// <param name="Identical">Entry for entry the same as the log (seq, author, client message id, body).</param>
internal sealed record DeviceHistoryRow(string Device, string Conversation, int Messages, ulong LastSeq, bool GapFree, bool Identical);

/// <summary>The outcome of comparing every device's history with the broker's log.</summary>
internal sealed record DemoProofResult(IReadOnlyList<DeviceHistoryRow> Rows, IReadOnlyDictionary<string, int> LogLengths)
{
    /// <summary>True when every device holds every conversation's whole log, gap-free and identical.</summary>
    public bool Passed => Rows.Count > 0 && Rows.All(r => r.GapFree && r.Identical && r.Messages == LogLengths[r.Conversation]);
}

/// <summary>
/// The demo's proof, kept free of I/O so it can be tested with tampered histories: each device's history of each
/// conversation must be gap-free (seqs 1..n, no duplicates) and identical to the broker's log.
/// </summary>
internal static class DemoProof
{
    /// <param name="log">The broker's log per conversation label, ascending seq.</param>
    /// <param name="devices">Per device name, what it received per conversation label, in arrival order.</param>
    public static DemoProofResult Check(IReadOnlyDictionary<string, IReadOnlyList<Deliver>> log, IReadOnlyDictionary<string, IReadOnlyDictionary<string, IReadOnlyList<Deliver>>> devices)
    {
        var rows = new List<DeviceHistoryRow>();
        foreach (var (device, histories) in devices)
        {
            foreach (var (conversation, reference) in log)
            {
                var held = histories.TryGetValue(conversation, out var h) ? h : [];
                bool gapFree = true;
                for (int i = 0; i < held.Count; i++)
                {
                    gapFree &= held[i].Seq == (ulong)i + 1;
                }

                bool identical = held.Count == reference.Count && held.Zip(reference).All(pair => Same(pair.First, pair.Second));
                rows.Add(new DeviceHistoryRow(device, conversation, held.Count, held.Count == 0 ? 0 : held.Max(e => e.Seq), gapFree, identical));
            }
        }

        return new DemoProofResult(rows, log.ToDictionary(l => l.Key, l => l.Value.Count));
    }

    private static bool Same(Deliver a, Deliver b) =>
        a.Seq == b.Seq
        && a.Epoch == b.Epoch
        && a.SenderUserId == b.SenderUserId
        && a.SenderDeviceId == b.SenderDeviceId
        && a.ClientMsgId == b.ClientMsgId
        && a.Body.AsSpan().SequenceEqual(b.Body);
}
