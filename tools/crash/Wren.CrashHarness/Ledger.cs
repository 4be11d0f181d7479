using System.Collections.Concurrent;
using System.Security.Cryptography;
using Wren.Protocol.Messages;

namespace Wren.CrashHarness;

/// <summary>One client message id: what was sent and what the broker answered.</summary>
internal sealed class SendRecord(string clientMsgId, int client, ulong conversationId, byte[] body)
{
    private int _state;

    public string ClientMsgId { get; } = clientMsgId;

    /// <summary>Index of the sending client; -1 for restart probes.</summary>
    public int Client { get; } = client;

    public ulong ConversationId { get; } = conversationId;

    public byte[] Body { get; } = body;

    public ulong BodyHash { get; } = Hash(body);

    /// <summary>The first SendAck (null until acknowledged).</summary>
    public SendAck? Ack { get; private set; }

    /// <summary>The error the send ended with, if it did not get an ack.</summary>
    public string? Error { get; private set; }

    /// <summary>True when a kill hit while the send was waiting for its ack.</summary>
    public bool InFlightAtKill { get; set; }

    /// <summary>True once acknowledged or failed.</summary>
    public bool Done => Volatile.Read(ref _state) != 0;

    public void Acknowledged(SendAck ack)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) == 0)
        {
            Ack = ack;
        }
    }

    public void Failed(string error)
    {
        if (Interlocked.CompareExchange(ref _state, 2, 0) == 0)
        {
            Error = error;
        }
    }

    public static ulong Hash(ReadOnlySpan<byte> body)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(body, hash);
        return BitConverter.ToUInt64(hash);
    }
}

/// <summary>Every send of a run, by client message id (ids are unique across the run).</summary>
internal sealed class Ledger
{
    private readonly ConcurrentDictionary<string, SendRecord> _records = new(StringComparer.Ordinal);

    public ICollection<SendRecord> Records => _records.Values;

    public SendRecord Add(SendRecord record) =>
        _records.TryAdd(record.ClientMsgId, record) ? record : throw new InvalidOperationException("duplicate client message id " + record.ClientMsgId);

    public SendRecord? Find(string clientMsgId) => _records.GetValueOrDefault(clientMsgId);

    /// <summary>Marks every send still waiting for its ack as hit by a kill; returns how many.</summary>
    public int MarkInFlight()
    {
        var count = 0;
        foreach (var record in _records.Values)
        {
            if (!record.Done)
            {
                record.InFlightAtKill = true;
                count++;
            }
        }

        return count;
    }
}
