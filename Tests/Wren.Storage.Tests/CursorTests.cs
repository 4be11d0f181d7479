using static Wren.Storage.Tests.Requests;

namespace Wren.Storage.Tests;

public sealed class CursorTests
{
    private static async Task<ulong> ConversationWithAsync(TestStore t, int messages, params ulong[] members)
    {
        var id = (await t.Store.CreateGroupAsync(members[0], "g", members)).ConversationId;
        for (var i = 0; i < messages; i++)
        {
            await t.Store.AppendAsync(Text(id, members[0], $"c{id}-{i}", "x"));
        }

        return id;
    }

    [Fact]
    public async Task Delivered_cursor_only_moves_forward()
    {
        await using var t = TestStore.Create();
        var id = await ConversationWithAsync(t, 10, 1);

        Assert.Equal(5UL, t.Store.AdvanceDelivered(1, 1, id, 5));
        Assert.Equal(5UL, t.Store.AdvanceDelivered(1, 1, id, 3));
        Assert.Equal(5UL, t.Store.GetDelivered(1, 1, id));
        Assert.Equal(7UL, t.Store.AdvanceDelivered(1, 1, id, 7));
        Assert.Equal(0UL, t.Store.GetDelivered(1, 2, id));
    }

    [Fact]
    public async Task Read_cursor_only_moves_forward()
    {
        await using var t = TestStore.Create();
        var id = await ConversationWithAsync(t, 10, 1);

        Assert.Equal(4UL, t.Store.AdvanceRead(1, id, 4));
        Assert.Equal(4UL, t.Store.AdvanceRead(1, id, 2));
        Assert.Equal(4UL, t.Store.GetRead(1, id));
        Assert.Equal(0UL, t.Store.GetRead(2, id));
    }

    [Fact]
    public async Task Cursors_never_pass_the_head_and_ignore_unknown_conversations()
    {
        await using var t = TestStore.Create();
        var id = await ConversationWithAsync(t, 3, 1);

        Assert.Equal(3UL, t.Store.AdvanceDelivered(1, 1, id, 1000));
        Assert.Equal(3UL, t.Store.AdvanceRead(1, id, 1000));
        Assert.Equal(0UL, t.Store.AdvanceDelivered(1, 1, 999, 5));
        Assert.Equal(0UL, t.Store.GetDelivered(1, 1, 999));
    }

    [Fact]
    public async Task GetPending_lists_conversations_past_the_devices_cursor()
    {
        await using var t = TestStore.Create();
        var busy = await ConversationWithAsync(t, 5, 1, 2);
        var caughtUp = await ConversationWithAsync(t, 2, 1, 2);
        var empty = await ConversationWithAsync(t, 0, 1, 2);
        var notMine = await ConversationWithAsync(t, 4, 3);
        t.Store.AdvanceDelivered(2, 1, busy, 3);
        t.Store.AdvanceDelivered(2, 1, caughtUp, 2);

        var pending = t.Store.GetPending(2, 1);

        Assert.Equal([new PendingConversation(busy, 1, 5, 3)], pending);
        var otherDevice = t.Store.GetPending(2, 2);
        Assert.Equal([busy, caughtUp], otherDevice.Select(p => p.ConversationId));
        Assert.All(otherDevice, p => Assert.Equal(0UL, p.DeliveredSeq));
        Assert.DoesNotContain(t.Store.GetPending(1, 1), p => p.ConversationId == empty || p.ConversationId == notMine);
    }

    [Fact]
    public async Task GetPending_does_not_read_message_history()
    {
        await using var t = TestStore.Create();
        var id = (await t.Store.CreateGroupAsync(1, "big", [2])).ConversationId;
        await Task.WhenAll(Enumerable.Range(0, 3000).Select(i => t.Store.AppendAsync(Text(id, 1, "m" + i, "x")).AsTask()));
        t.Store.AdvanceDelivered(2, 1, id, 10);
        var readsBefore = t.Store.MessageReads;

        var pending = Assert.Single(t.Store.GetPending(2, 1));

        Assert.Equal(3000UL, pending.Head);
        Assert.Equal(10UL, pending.DeliveredSeq);
        Assert.Equal(readsBefore, t.Store.MessageReads);
        t.Store.ReadRange(id, 1, 1);
        Assert.Equal(readsBefore + 1, t.Store.MessageReads);
    }

    [Fact]
    public async Task FlushAsync_persists_cursor_updates()
    {
        await using var t = TestStore.Create(o => o.CursorFlushInterval = TimeSpan.FromHours(1));
        var id = await ConversationWithAsync(t, 5, 1);
        t.Store.AdvanceDelivered(1, 4, id, 2);
        t.Store.AdvanceRead(1, id, 2);
        Assert.Null(t.Store.GetPersistedDelivered(1, 4, id));

        await t.Store.FlushAsync();

        Assert.Equal((1U, 2UL), t.Store.GetPersistedDelivered(1, 4, id));
        t.Store.AdvanceDelivered(1, 4, id, 4);
        await t.Store.FlushAsync();
        Assert.Equal((1U, 4UL), t.Store.GetPersistedDelivered(1, 4, id));
    }

    [Fact]
    public async Task Cursor_updates_are_flushed_periodically()
    {
        await using var t = TestStore.Create(o => o.CursorFlushInterval = TimeSpan.FromMilliseconds(20));
        var id = await ConversationWithAsync(t, 5, 1);
        t.Store.AdvanceDelivered(1, 1, id, 5);

        await Eventually.TrueAsync(() => t.Store.GetPersistedDelivered(1, 1, id) == (1U, 5UL), "the periodic cursor flush");
    }

    [Fact]
    public async Task A_cursor_from_another_epoch_counts_as_zero()
    {
        await using var t = TestStore.Create();
        var id = await ConversationWithAsync(t, 5, 1);
        await t.Store.PutPersistedDeliveredAsync(1, 1, id, epoch: 7, seq: 4);
        await t.ReopenAsync();

        Assert.Equal(0UL, t.Store.GetDelivered(1, 1, id));
        Assert.Equal(0UL, Assert.Single(t.Store.GetPending(1, 1)).DeliveredSeq);
        Assert.Equal(2UL, t.Store.AdvanceDelivered(1, 1, id, 2));
    }
}
