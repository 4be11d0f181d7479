using System.Collections.Concurrent;
using static Wren.Storage.Tests.Requests;

namespace Wren.Storage.Tests;

public sealed class LogTests
{
    [Fact]
    public async Task First_append_gets_seq_1_in_epoch_1_and_moves_the_head()
    {
        await using var t = TestStore.Create();
        var conversation = await t.Store.CreateGroupAsync(1, "g", []);
        Assert.Equal(new LogHead(1, 0), t.Store.GetHead(conversation.ConversationId));

        var result = await t.Store.AppendAsync(Text(conversation.ConversationId, 1, "m1", "hello"));

        Assert.Equal(AppendStatus.Appended, result.Status);
        Assert.NotNull(result.Entry);
        Assert.Equal(1UL, result.Entry.Seq);
        Assert.Equal(1U, result.Entry.Epoch);
        Assert.Equal("hello", result.Entry.BodyText());
        Assert.Equal(new LogHead(1, 1), t.Store.GetHead(conversation.ConversationId));
    }

    [Fact]
    public async Task Append_to_unknown_conversation_returns_NotFound()
    {
        await using var t = TestStore.Create();
        var result = await t.Store.AppendAsync(Text(42, 1, "m1", "x"));
        Assert.Equal(AppendStatus.NotFound, result.Status);
        Assert.Null(result.Entry);
        Assert.Null(t.Store.GetHead(42));
    }

    [Fact]
    public async Task Append_with_empty_or_oversize_client_msg_id_throws()
    {
        await using var t = TestStore.Create();
        var conversation = await t.Store.CreateGroupAsync(1, "g", []);
        await Assert.ThrowsAsync<ArgumentException>(async () => await t.Store.AppendAsync(Text(conversation.ConversationId, 1, "", "x")));
        await Assert.ThrowsAsync<ArgumentException>(async () => await t.Store.AppendAsync(Text(conversation.ConversationId, 1, new string('a', 1025), "x")));
    }

    [Fact]
    public async Task Append_with_cancelled_token_is_cancelled_and_writes_nothing()
    {
        await using var t = TestStore.Create();
        var conversation = await t.Store.CreateGroupAsync(1, "g", []);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            async () => await t.Store.AppendAsync(Text(conversation.ConversationId, 1, "m", "x"), new CancellationToken(true)));
        Assert.Equal(0UL, t.Store.GetHead(conversation.ConversationId)!.Value.Head);
    }

    [Fact]
    public async Task Entry_keeps_every_envelope_field()
    {
        var clock = new ManualTimeProvider();
        await using var t = TestStore.Create(o => o.TimeProvider = clock);
        var conversation = await t.Store.CreateGroupAsync(7, "g", []);
        await t.Store.AppendAsync(new AppendRequest(conversation.ConversationId, 7, 3, "id-é", 9, new byte[] { 1, 2, 3 }));

        var entry = Assert.Single(t.Store.ReadRange(conversation.ConversationId, 1, 10));

        Assert.Equal(conversation.ConversationId, entry.ConversationId);
        Assert.Equal(7UL, entry.SenderUserId);
        Assert.Equal(3U, entry.SenderDeviceId);
        Assert.Equal("id-é", entry.ClientMsgId);
        Assert.Equal((ushort)9, entry.Kind);
        Assert.Equal(clock.GetUtcNow().ToUnixTimeMilliseconds(), entry.ServerTimeMs);
        Assert.Equal(new byte[] { 1, 2, 3 }, entry.Body.ToArray());
    }

    [Fact]
    public async Task ReadRange_returns_the_asked_window_ascending()
    {
        await using var t = TestStore.Create();
        var id = (await t.Store.CreateGroupAsync(1, "g", [])).ConversationId;
        for (var i = 1; i <= 20; i++)
        {
            await t.Store.AppendAsync(Text(id, 1, "m" + i, "body " + i));
        }

        var page = t.Store.ReadRange(id, 5, 4);
        Assert.Equal([5UL, 6, 7, 8], page.Select(e => e.Seq));
        Assert.Equal("body 5", page[0].BodyText());
        Assert.Equal(20, t.Store.ReadRange(id, 0, 100).Count);
        Assert.Equal([19UL, 20], t.Store.ReadRange(id, 19, 100).Select(e => e.Seq));
        Assert.Empty(t.Store.ReadRange(id, 21, 10));
        Assert.Empty(t.Store.ReadRange(id, 1, 0));
        Assert.Empty(t.Store.ReadRange(id + 1, 1, 10));
        Assert.Equal([20UL], t.Store.ReadRange(id, 20, int.MaxValue).Select(e => e.Seq));
    }

    [Fact]
    public async Task ReadBefore_returns_the_page_before_a_seq_ascending()
    {
        await using var t = TestStore.Create();
        var id = (await t.Store.CreateGroupAsync(1, "g", [])).ConversationId;
        for (var i = 1; i <= 10; i++)
        {
            await t.Store.AppendAsync(Text(id, 1, "m" + i, "body " + i));
        }

        Assert.Equal([8UL, 9, 10], t.Store.ReadBefore(id, 0, 3).Select(e => e.Seq));
        Assert.Equal([5UL, 6, 7], t.Store.ReadBefore(id, 8, 3).Select(e => e.Seq));
        Assert.Equal([1UL, 2], t.Store.ReadBefore(id, 3, 5).Select(e => e.Seq));
        Assert.Empty(t.Store.ReadBefore(id, 1, 5));
        Assert.Equal([9UL, 10], t.Store.ReadBefore(id, 1000, 2).Select(e => e.Seq));
    }

    [Fact]
    public async Task Concurrent_appends_get_dense_seqs_in_each_writers_order_and_Committed_sees_each_once_in_order()
    {
        await using var t = TestStore.Create();
        const int Conversations = 8;
        const int Writers = 16;
        const int PerWriter = 150;
        var ids = new List<ulong>();
        for (var i = 0; i < Conversations; i++)
        {
            ids.Add((await t.Store.CreateGroupAsync(1, "g" + i, [])).ConversationId);
        }

        var committed = new Dictionary<ulong, List<ulong>>();
        var committedOrderOk = true;
        t.Store.Committed = entries =>
        {
            foreach (var entry in entries)
            {
                if (!committed.TryGetValue(entry.ConversationId, out var list))
                {
                    committed[entry.ConversationId] = list = [];
                }

                committedOrderOk &= list.Count == 0 ? entry.Seq == 1 : entry.Seq == list[^1] + 1;
                list.Add(entry.Seq);
            }
        };

        var results = new ConcurrentBag<(int Writer, List<(ulong Conversation, ulong Seq, string Id)> Seen)>();
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            var seen = new List<(ulong, ulong, string)>();
            for (var i = 0; i < PerWriter; i++)
            {
                var conversation = ids[(w + i) % Conversations];
                var clientMsgId = $"w{w}-{i}";
                var result = await t.Store.AppendAsync(Text(conversation, (ulong)w + 1, clientMsgId, clientMsgId));
                Assert.Equal(AppendStatus.Appended, result.Status);
                seen.Add((conversation, result.Entry!.Seq, clientMsgId));
            }

            results.Add((w, seen));
        })));

        var total = 0UL;
        foreach (var id in ids)
        {
            var head = t.Store.GetHead(id)!.Value.Head;
            total += head;
            var log = t.Store.ReadRange(id, 1, int.MaxValue);
            Assert.Equal(Enumerable.Range(1, (int)head).Select(i => (ulong)i), log.Select(e => e.Seq));
            Assert.Equal(log.Count, log.Select(e => e.ClientMsgId).Distinct().Count());
            Assert.Equal(log.Select(e => e.Seq), committed[id]);
        }

        Assert.Equal((ulong)(Writers * PerWriter), total);
        Assert.True(committedOrderOk);
        foreach (var (_, seen) in results)
        {
            foreach (var group in seen.GroupBy(s => s.Conversation))
            {
                var seqs = group.Select(s => s.Seq).ToList();
                Assert.Equal(seqs.Order(), seqs);
            }

            foreach (var (conversation, seq, clientMsgId) in seen)
            {
                var entry = Assert.Single(t.Store.ReadRange(conversation, seq, 1));
                Assert.Equal(clientMsgId, entry.ClientMsgId);
                Assert.Equal(clientMsgId, entry.BodyText());
            }
        }

        var statistics = t.Store.GetStatistics();
        Assert.Equal(Writers * PerWriter, statistics.BatchedAppends);
        Assert.True(statistics.Batches < statistics.BatchedAppends, $"{statistics.Batches} batches for {statistics.BatchedAppends} appends: no group commit");
    }

    [Fact]
    public async Task Committed_runs_before_the_waiters_complete_and_batches_respect_MaxBatchCount()
    {
        await using var t = TestStore.Create(o => o.MaxBatchCount = 4);
        var id = (await t.Store.CreateGroupAsync(1, "g", [])).ConversationId;
        var seenByCallback = new ConcurrentDictionary<ulong, bool>();
        var largestBatch = 0;
        t.Store.Committed = entries =>
        {
            largestBatch = Math.Max(largestBatch, entries.Count);
            foreach (var entry in entries)
            {
                seenByCallback[entry.Seq] = true;
            }
        };

        var appends = Enumerable.Range(0, 64).Select(async i =>
        {
            var result = await t.Store.AppendAsync(Text(id, 1, "m" + i, "x"));
            Assert.True(seenByCallback.ContainsKey(result.Entry!.Seq), "completed before Committed saw it");
        }).ToList();
        await Task.WhenAll(appends);

        Assert.InRange(largestBatch, 1, 4);
        Assert.Equal(64, seenByCallback.Count);
    }

    /// <summary>
    /// <see cref="AppendCompletion.OnWriter"/> runs the append's continuation on the writer loop (the broker queues its
    /// SendAck from there); the default queues it to the thread pool. The writer is held before its write until both
    /// continuations are registered, so neither append can complete synchronously on the test thread.
    /// </summary>
    [Fact]
    public async Task OnWriter_completion_continues_on_the_writer_loop_and_the_default_on_the_thread_pool()
    {
        await using var t = TestStore.Create();
        var id = (await t.Store.CreateGroupAsync(1, "g", [])).ConversationId;
        using var gate = new ManualResetEventSlim();
        t.Store.BeforeWrite = () => gate.Wait(TimeSpan.FromSeconds(10));

        var onWriter = ContinuationThreadAsync(t.Store.AppendAsync(Text(id, 1, "w", "x"), AppendCompletion.OnWriter));
        var pooled = ContinuationThreadAsync(t.Store.AppendAsync(Text(id, 1, "p", "x")));
        gate.Set();

        Assert.Equal("wren-storage-writer", await onWriter);
        Assert.NotEqual("wren-storage-writer", await pooled);
        t.Store.BeforeWrite = null;

        static async Task<string?> ContinuationThreadAsync(ValueTask<AppendResult> append)
        {
            var result = await append.ConfigureAwait(false);
            Assert.Equal(AppendStatus.Appended, result.Status);
            return Thread.CurrentThread.Name;
        }
    }

    [Fact]
    public async Task Batches_respect_MaxBatchBytes()
    {
        await using var t = TestStore.Create(o => o.MaxBatchBytes = 3000);
        var id = (await t.Store.CreateGroupAsync(1, "g", [])).ConversationId;
        var largestBatch = 0;
        t.Store.Committed = entries => largestBatch = Math.Max(largestBatch, entries.Count);

        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => t.Store.AppendAsync(Text(id, 1, "m" + i, new string('b', 1000))).AsTask()));

        Assert.InRange(largestBatch, 1, 3);
        Assert.Equal(40UL, t.Store.GetHead(id)!.Value.Head);
    }

    [Fact]
    public async Task A_throwing_Committed_callback_does_not_stop_the_log()
    {
        await using var t = TestStore.Create();
        var id = (await t.Store.CreateGroupAsync(1, "g", [])).ConversationId;
        t.Store.Committed = _ => throw new InvalidOperationException("subscriber bug");

        Assert.Equal(AppendStatus.Appended, (await t.Store.AppendAsync(Text(id, 1, "a", "x"))).Status);
        Assert.Equal(AppendStatus.Appended, (await t.Store.AppendAsync(Text(id, 1, "b", "x"))).Status);
        Assert.Equal(2UL, t.Store.GetHead(id)!.Value.Head);
    }

    [Fact]
    public async Task Append_after_dispose_throws_ObjectDisposedException()
    {
        var t = TestStore.Create();
        var id = (await t.Store.CreateGroupAsync(1, "g", [])).ConversationId;
        await t.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await t.Store.AppendAsync(Text(id, 1, "a", "x")));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await t.Store.CreateGroupAsync(1, "g", []));
    }
}
