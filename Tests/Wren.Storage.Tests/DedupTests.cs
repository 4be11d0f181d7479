using static Wren.Storage.Tests.Requests;

namespace Wren.Storage.Tests;

public sealed class DedupTests
{
    [Fact]
    public async Task Retry_with_same_client_msg_id_returns_the_original_entry()
    {
        await using var t = TestStore.Create();
        var id = (await t.Store.CreateGroupAsync(1, "g", [])).ConversationId;
        var first = await t.Store.AppendAsync(Text(id, 1, "m1", "hello"));
        await t.Store.AppendAsync(Text(id, 1, "m2", "other"));

        var retry = await t.Store.AppendAsync(Text(id, 1, "m1", "hello"));

        Assert.Equal(AppendStatus.Duplicate, retry.Status);
        Assert.Equal(first.Entry!.Seq, retry.Entry!.Seq);
        Assert.Equal("hello", retry.Entry.BodyText());
        Assert.Equal(2UL, t.Store.GetHead(id)!.Value.Head);
    }

    [Fact]
    public async Task Same_client_msg_id_with_another_body_is_a_conflict_and_writes_nothing()
    {
        await using var t = TestStore.Create();
        var id = (await t.Store.CreateGroupAsync(1, "g", [])).ConversationId;
        await t.Store.AppendAsync(Text(id, 1, "m1", "hello"));

        var conflict = await t.Store.AppendAsync(Text(id, 1, "m1", "HELLO"));

        Assert.Equal(AppendStatus.Conflict, conflict.Status);
        Assert.Null(conflict.Entry);
        Assert.Equal(1UL, t.Store.GetHead(id)!.Value.Head);
    }

    [Fact]
    public async Task Same_client_msg_id_in_another_conversation_is_a_conflict()
    {
        await using var t = TestStore.Create();
        var a = (await t.Store.CreateGroupAsync(1, "a", [])).ConversationId;
        var b = (await t.Store.CreateGroupAsync(1, "b", [])).ConversationId;
        await t.Store.AppendAsync(Text(a, 1, "m1", "hello"));

        Assert.Equal(AppendStatus.Conflict, (await t.Store.AppendAsync(Text(b, 1, "m1", "hello"))).Status);
        Assert.Equal(0UL, t.Store.GetHead(b)!.Value.Head);
    }

    [Fact]
    public async Task Client_msg_ids_are_per_sender()
    {
        await using var t = TestStore.Create();
        var id = (await t.Store.CreateGroupAsync(1, "g", [2])).ConversationId;
        var a = await t.Store.AppendAsync(Text(id, 1, "m1", "x"));
        var b = await t.Store.AppendAsync(Text(id, 2, "m1", "x"));
        Assert.Equal(AppendStatus.Appended, a.Status);
        Assert.Equal(AppendStatus.Appended, b.Status);
        Assert.Equal(2UL, b.Entry!.Seq);
    }

    [Fact]
    public async Task Identical_appends_in_one_batch_are_deduplicated()
    {
        await using var t = TestStore.Create();
        var id = (await t.Store.CreateGroupAsync(1, "g", [])).ConversationId;
        var committed = new List<LogEntry>();
        t.Store.Committed = committed.AddRange;
        using var gate = new ManualResetEventSlim(false);
        using var writerBlocked = new ManualResetEventSlim(false);
        t.Store.BeforeWrite = () =>
        {
            writerBlocked.Set();
            gate.Wait();
        };

        // The first append holds the writer inside its write; the next three queue up and form one batch.
        var blocker = t.Store.AppendAsync(Text(id, 1, "first", "x")).AsTask();
        Assert.True(writerBlocked.Wait(5000));
        var original = t.Store.AppendAsync(Text(id, 1, "dup", "same")).AsTask();
        var retry = t.Store.AppendAsync(Text(id, 1, "dup", "same")).AsTask();
        var conflict = t.Store.AppendAsync(Text(id, 1, "dup", "different")).AsTask();
        var otherKind = t.Store.AppendAsync(Text(id, 1, "dup", "same") with { Kind = 2 }).AsTask();
        t.Store.BeforeWrite = null;
        gate.Set();
        await Task.WhenAll(blocker, original, retry, conflict, otherKind);

        // Same body, other kind: a conflict in the same batch, as it is once the original is durable (Retry).
        Assert.Equal(AppendStatus.Conflict, (await otherKind).Status);
        Assert.Equal(AppendStatus.Conflict, (await t.Store.AppendAsync(Text(id, 1, "dup", "same") with { Kind = 2 })).Status);
        var (o, r, c) = (await original, await retry, await conflict);
        Assert.Equal(AppendStatus.Appended, o.Status);
        Assert.Equal(AppendStatus.Duplicate, r.Status);
        Assert.Equal(o.Entry!.Seq, r.Entry!.Seq);
        Assert.Equal(AppendStatus.Conflict, c.Status);
        Assert.Equal(2UL, t.Store.GetHead(id)!.Value.Head);
        Assert.Equal([1UL, 2], committed.Select(e => e.Seq));
    }

    [Fact]
    public async Task Dedup_record_expires_after_the_window()
    {
        var clock = new ManualTimeProvider();
        await using var t = TestStore.Create(o =>
        {
            o.TimeProvider = clock;
            o.DedupWindow = TimeSpan.FromMinutes(10);
        });
        var id = (await t.Store.CreateGroupAsync(1, "g", [])).ConversationId;
        await t.Store.AppendAsync(Text(id, 1, "m1", "hello"));

        clock.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromMilliseconds(1));
        Assert.Equal(AppendStatus.Duplicate, (await t.Store.AppendAsync(Text(id, 1, "m1", "hello"))).Status);

        clock.Advance(TimeSpan.FromMilliseconds(1));
        var again = await t.Store.AppendAsync(Text(id, 1, "m1", "hello"));
        Assert.Equal(AppendStatus.Appended, again.Status);
        Assert.Equal(2UL, again.Entry!.Seq);
    }

    [Fact]
    public async Task Sweep_deletes_only_expired_dedup_records()
    {
        var clock = new ManualTimeProvider();
        await using var t = TestStore.Create(o =>
        {
            o.TimeProvider = clock;
            o.DedupWindow = TimeSpan.FromMinutes(10);
        });
        var id = (await t.Store.CreateGroupAsync(1, "g", [])).ConversationId;
        await t.Store.AppendAsync(Text(id, 1, "old", "x"));
        clock.Advance(TimeSpan.FromMinutes(5));
        await t.Store.AppendAsync(Text(id, 1, "new", "x"));
        Assert.Equal(0, await t.Store.SweepExpiredDedupAsync());

        clock.Advance(TimeSpan.FromMinutes(6));
        Assert.Equal(1, await t.Store.SweepExpiredDedupAsync());

        Assert.False(t.Store.DedupRecordExists(1, "old"));
        Assert.True(t.Store.DedupRecordExists(1, "new"));
        Assert.Equal(1, t.Store.CountDedupExpiryEntries());
    }

    [Fact]
    public async Task Sweep_keeps_a_record_renewed_after_expiry()
    {
        var clock = new ManualTimeProvider();
        await using var t = TestStore.Create(o =>
        {
            o.TimeProvider = clock;
            o.DedupWindow = TimeSpan.FromMinutes(10);
        });
        var id = (await t.Store.CreateGroupAsync(1, "g", [])).ConversationId;
        await t.Store.AppendAsync(Text(id, 1, "m", "x"));
        clock.Advance(TimeSpan.FromMinutes(11));
        Assert.Equal(AppendStatus.Appended, (await t.Store.AppendAsync(Text(id, 1, "m", "x"))).Status);

        Assert.Equal(1, await t.Store.SweepExpiredDedupAsync());

        Assert.True(t.Store.DedupRecordExists(1, "m"));
        Assert.Equal(AppendStatus.Duplicate, (await t.Store.AppendAsync(Text(id, 1, "m", "x"))).Status);
    }
}
