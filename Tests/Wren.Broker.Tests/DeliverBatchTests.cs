using Wren.Broker.Core;
using Wren.Storage;

namespace Wren.Broker.Tests;

/// <summary>A catch-up batch is byte for byte the Deliver frames of its entries, back to back.</summary>
public class DeliverBatchTests
{
    [Fact]
    public void Encode_Entries_IsEachEntrysDeliverFrameBackToBack()
    {
        var entries = Enumerable.Range(1, 50).Select(i => Entry((ulong)i, bodyLength: i * 37 % 300)).ToList();
        int index = 0;
        byte[] batch = DeliverBatch.Encode(9, entries, ref index);
        Assert.Equal(50, index);
        Assert.Equal(entries.SelectMany(e => Frames.Deliver(9, e)).ToArray(), batch);
    }

    [Fact]
    public void Encode_PastMaxBytes_EndsAtAFrameBoundaryAndTakesAtLeastOneEntry()
    {
        var entries = Enumerable.Range(1, 20).Select(i => Entry((ulong)i, bodyLength: 1000)).ToList();
        entries.Insert(10, Entry(100, bodyLength: 10_000));
        var batches = new List<byte[]>();
        int index = 0;
        while (index < entries.Count)
        {
            int before = index;
            batches.Add(DeliverBatch.Encode(0, entries, ref index, maxBytes: 4096));
            Assert.True(index > before, "every batch takes at least one entry");
        }

        Assert.All(batches, b => Assert.True(b.Length <= 4096 || b.Length == Frames.Deliver(0, entries[10]).Length, $"batch of {b.Length} bytes"));
        Assert.Contains(batches, b => b.Length > 4096);
        Assert.True(batches.Count > 5);
        Assert.Equal(entries.SelectMany(e => Frames.Deliver(0, e)).ToArray(), batches.SelectMany(b => b).ToArray());
    }

    [Fact]
    public void Encode_FromAnIndex_StartsThere()
    {
        var entries = Enumerable.Range(1, 5).Select(i => Entry((ulong)i, bodyLength: 10)).ToList();
        int index = 3;
        byte[] batch = DeliverBatch.Encode(1, entries, ref index);
        Assert.Equal(5, index);
        Assert.Equal(entries.Skip(3).SelectMany(e => Frames.Deliver(1, e)).ToArray(), batch);
    }

    [Fact]
    public void Encode_WithTransform_EncodesWhatTheTransformReturns()
    {
        var entries = Enumerable.Range(1, 4).Select(i => Entry((ulong)i, bodyLength: 64)).ToList();
        static LogEntry Blank(LogEntry e) => e.Seq % 2 == 0 ? e with { Body = ReadOnlyMemory<byte>.Empty } : e;
        int index = 0;
        byte[] batch = DeliverBatch.Encode(0, entries, ref index, transform: Blank);
        Assert.Equal(entries.Select(Blank).SelectMany(e => Frames.Deliver(0, e)).ToArray(), batch);
    }

    private static LogEntry Entry(ulong seq, int bodyLength) => new(
        ConversationId: 77, Seq: seq, Epoch: 2, SenderUserId: 1000 + seq, SenderDeviceId: 1, ServerTimeMs: 1_700_000_000_000 + (long)seq,
        ClientMsgId: "m-" + seq, Kind: 0, Body: Enumerable.Range(0, bodyLength).Select(i => (byte)(i + (int)seq)).ToArray());
}
