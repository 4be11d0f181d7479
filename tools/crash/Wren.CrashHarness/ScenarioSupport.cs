using System.Collections.Concurrent;
using System.Diagnostics;
using Wren.Client;
using Wren.Protocol;
using Wren.Protocol.Messages;

namespace Wren.CrashHarness;

/// <summary>One send of a scenario run: what was sent, and every answer it got (first attempt and retries).</summary>
internal sealed class ScenarioSend(string clientMsgId, int client, ulong conversationId, byte[] body, long sentAt)
{
    private readonly Lock _lock = new();

    public string ClientMsgId { get; } = clientMsgId;

    public int Client { get; } = client;

    public ulong ConversationId { get; } = conversationId;

    public byte[] Body { get; } = body;

    public ulong BodyHash { get; } = SendRecord.Hash(body);

    /// <summary>Stopwatch timestamp of the intended send time.</summary>
    public long SentAt { get; } = sentAt;

    /// <summary>The first SendAck (null until acknowledged).</summary>
    public SendAck? Ack { get; private set; }

    /// <summary>Stopwatch timestamp of the first SendAck.</summary>
    public long AckedAt { get; private set; }

    /// <summary>The server's error code of the first attempt, or null.</summary>
    public ErrorCode? ErrorCode { get; private set; }

    /// <summary>A local failure (timeout, connection lost), or null.</summary>
    public string? LocalError { get; private set; }

    public void Acknowledged(SendAck ack)
    {
        lock (_lock)
        {
            if (Ack is null)
            {
                Ack = ack;
                AckedAt = Stopwatch.GetTimestamp();
            }
        }
    }

    public void Failed(Exception ex)
    {
        lock (_lock)
        {
            if (ex is WrenClientException { IsConnectionFailure: false } server)
            {
                ErrorCode ??= server.Code;
            }
            else
            {
                LocalError ??= ex.GetType().Name + ": " + ex.Message;
            }
        }
    }
}

/// <summary>What a fresh device reads back, checked against every acknowledgement of a run.</summary>
internal sealed class HistoryCheck
{
    public int Acknowledged { get; private set; }

    public int Lost { get; private set; }

    public int Duplicated { get; private set; }

    public int Unexpected { get; private set; }

    public int SeqGaps { get; private set; }

    public int StoredEntries { get; private set; }

    /// <summary>Sent, not acknowledged, yet stored (allowed: the client never saw an ack).</summary>
    public int StoredWithoutAck { get; private set; }

    public List<string> Problems { get; } = [];

    /// <summary>Reads every conversation's full history with <paramref name="reader"/> and compares it with <paramref name="sends"/>.</summary>
    public static async Task<HistoryCheck> RunAsync(WrenClient reader, IReadOnlyList<ulong> conversations, IEnumerable<ScenarioSend> sends, CancellationToken cancellationToken)
    {
        var check = new HistoryCheck();
        var byId = new Dictionary<string, ScenarioSend>(StringComparer.Ordinal);
        foreach (var send in sends)
        {
            byId[send.ClientMsgId] = send;
        }

        var positions = new Dictionary<string, List<(ulong Conversation, ulong Seq)>>(StringComparer.Ordinal);
        foreach (var conversation in conversations)
        {
            var entries = await ReadAllAsync(reader, conversation, cancellationToken).ConfigureAwait(false);
            check.StoredEntries += entries.Count;
            ulong expected = 1;
            foreach (var entry in entries)
            {
                if (entry.Seq != expected)
                {
                    check.SeqGaps += entry.Seq > expected ? (int)Math.Min(entry.Seq - expected, int.MaxValue) : 1;
                    check.Problem($"conversation {conversation}: seq {entry.Seq} where {expected} was expected");
                }

                expected = entry.Seq + 1;
                if (!positions.TryGetValue(entry.ClientMsgId, out var list))
                {
                    positions[entry.ClientMsgId] = list = [];
                }

                list.Add((conversation, entry.Seq));
                if (!byId.TryGetValue(entry.ClientMsgId, out var send))
                {
                    check.Unexpected++;
                    check.Problem($"conversation {conversation} seq {entry.Seq}: id {entry.ClientMsgId} was never sent");
                }
                else if (send.ConversationId != conversation || SendRecord.Hash(entry.Body) != send.BodyHash)
                {
                    check.Unexpected++;
                    check.Problem($"conversation {conversation} seq {entry.Seq}: id {entry.ClientMsgId} holds another conversation or body than was sent");
                }
            }
        }

        foreach (var (id, list) in positions)
        {
            if (list.Count > 1)
            {
                check.Duplicated += list.Count - 1;
                check.Problem($"id {id} stored {list.Count} times");
            }
        }

        foreach (var send in byId.Values)
        {
            var stored = positions.GetValueOrDefault(send.ClientMsgId);
            if (send.Ack is { } ack)
            {
                check.Acknowledged++;
                if (stored?.Contains((ack.ConversationId, ack.Seq)) != true)
                {
                    check.Lost++;
                    check.Problem($"lost: {send.ClientMsgId} acknowledged at {ack.ConversationId}:{ack.Seq}" + (stored is null ? ", not stored" : ", stored at " + string.Join(", ", stored.Select(p => $"{p.Conversation}:{p.Seq}"))));
                }
            }
            else if (stored is not null)
            {
                check.StoredWithoutAck++;
            }
        }

        return check;
    }

    /// <summary>Every entry of a conversation, oldest first, paging History backwards.</summary>
    public static async Task<List<Deliver>> ReadAllAsync(WrenClient reader, ulong conversation, CancellationToken cancellationToken)
    {
        var entries = new List<Deliver>();
        ulong before = 0;
        while (true)
        {
            // Small pages: a page must stay well below the broker's outbound limit, which tests lower.
            var page = await reader.HistoryAsync(conversation, before, 16, cancellationToken).ConfigureAwait(false);
            entries.AddRange(page.Messages);
            if (!page.More || page.Messages.Length == 0)
            {
                break;
            }

            before = page.Messages[0].Seq;
        }

        entries.Sort((a, b) => a.Seq.CompareTo(b.Seq));
        return entries;
    }

    private void Problem(string problem)
    {
        if (Problems.Count < 20)
        {
            Problems.Add(problem);
        }
    }
}

/// <summary>Users, device tokens and groups created over the wire with the bootstrap admin token.</summary>
internal static class ScenarioSetup
{
    public static WrenClientOptions ClientOptions(BrokerProcess broker, string token, bool reconnect, TimeSpan requestTimeout) => new()
    {
        Host = "127.0.0.1",
        Port = broker.Port,
        Token = token,
        PinnedFingerprint = broker.Fingerprint,
        AutoReconnect = reconnect,
        SyncOnConnect = false,
        MinReconnectDelay = TimeSpan.FromMilliseconds(50),
        MaxReconnectDelay = TimeSpan.FromSeconds(1),
        RequestTimeout = requestTimeout,
    };

    /// <summary>Creates <paramref name="users"/> users with <paramref name="devicesPerUser"/> device tokens each; returns ids and tokens.</summary>
    public static async Task<(List<ulong> UserIds, List<string[]> Tokens)> CreateUsersAsync(
        WrenClient admin, string prefix, int users, int devicesPerUser, CancellationToken cancellationToken)
    {
        var ids = new List<ulong>();
        var tokens = new List<string[]>();
        for (var u = 0; u < users; u++)
        {
            var name = $"{prefix}-u{u}";
            ids.Add((await admin.AdminCreateUserAsync(name, cancellationToken: cancellationToken).ConfigureAwait(false)).UserId);
            var devices = new string[devicesPerUser];
            for (var d = 0; d < devicesPerUser; d++)
            {
                devices[d] = (await admin.AdminIssueTokenAsync(name, "d" + d, cancellationToken: cancellationToken).ConfigureAwait(false)).Token;
            }

            tokens.Add(devices);
        }

        return (ids, tokens);
    }

    /// <summary>Reads the bootstrap admin token the broker wrote into its data directory.</summary>
    public static async Task<string> AdminTokenAsync(string dataDirectory, CancellationToken cancellationToken) =>
        (await File.ReadAllTextAsync(Path.Combine(dataDirectory, "admin.token"), cancellationToken).ConfigureAwait(false)).Trim();
}

/// <summary>A bag of tasks to await at the end.</summary>
internal sealed class TaskBag
{
    private readonly ConcurrentBag<Task> _tasks = [];

    public void Add(Task task) => _tasks.Add(task);

    public Task WhenAll(CancellationToken cancellationToken) => Task.WhenAll(_tasks).WaitAsync(cancellationToken);
}
