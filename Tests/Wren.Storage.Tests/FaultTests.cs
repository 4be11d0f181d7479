using static Wren.Storage.Tests.Requests;

namespace Wren.Storage.Tests;

public sealed class FaultTests
{
    [Fact]
    public async Task Failed_write_reports_Unavailable_rolls_back_the_head_and_the_store_keeps_running()
    {
        await using var t = TestStore.Create();
        var id = (await t.Store.CreateGroupAsync(1, "g", [])).ConversationId;
        await t.Store.AppendAsync(Text(id, 1, "ok-1", "x"));
        var committed = new List<ulong>();
        t.Store.Committed = entries => committed.AddRange(entries.Select(e => e.Seq));
        t.Store.BeforeWrite = () => throw WrenStore.SimulatedWriteError("IO error: No space left on device");

        var failed = await Task.WhenAll(Enumerable.Range(0, 5).Select(i => t.Store.AppendAsync(Text(id, 1, "f" + i, "x")).AsTask()));

        Assert.All(failed, r => Assert.Equal(AppendStatus.Unavailable, r.Status));
        Assert.All(failed, r => Assert.Null(r.Entry));
        Assert.Equal(1UL, t.Store.GetHead(id)!.Value.Head);
        Assert.Empty(committed);

        t.Store.BeforeWrite = null;
        var next = await t.Store.AppendAsync(Text(id, 1, "f0", "x"));
        Assert.Equal(AppendStatus.Appended, next.Status);
        Assert.Equal(2UL, next.Entry!.Seq);
        Assert.Equal([2UL], committed);
        Assert.Equal([1UL, 2], t.Store.ReadRange(id, 1, 10).Select(e => e.Seq));
    }

    [Fact]
    public async Task Failed_metadata_write_throws_StorageException_and_allocates_nothing()
    {
        await using var t = TestStore.Create();
        t.Store.BeforeWrite = () => throw WrenStore.SimulatedWriteError("IO error: No space left on device");

        var error = await Assert.ThrowsAsync<StorageException>(async () => await t.Store.CreateGroupAsync(1, "g", [2]));
        Assert.Contains("disk space", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<StorageException>(async () => await t.Store.CreateUserAsync("alice", "Alice"));
        Assert.Empty(t.Store.GetUserConversations(1));

        t.Store.BeforeWrite = null;
        Assert.Equal(1UL, (await t.Store.CreateGroupAsync(1, "g", [2])).ConversationId);
        Assert.Equal(1UL, (await t.Store.CreateUserAsync("alice", "Alice"))!.UserId);
    }

    [Fact]
    public async Task Failed_cursor_flush_keeps_the_cursors_for_the_next_flush()
    {
        await using var t = TestStore.Create(o => o.CursorFlushInterval = TimeSpan.FromHours(1));
        var id = (await t.Store.CreateGroupAsync(1, "g", [])).ConversationId;
        await t.Store.AppendAsync(Text(id, 1, "m", "x"));
        t.Store.AdvanceDelivered(1, 1, id, 1);
        t.Store.BeforeWrite = () => throw WrenStore.SimulatedWriteError("IO error");

        await Assert.ThrowsAsync<StorageException>(async () => await t.Store.FlushAsync());

        t.Store.BeforeWrite = null;
        await t.Store.FlushAsync();
        Assert.Equal((1U, 1UL), t.Store.GetPersistedDelivered(1, 1, id));
    }
}
