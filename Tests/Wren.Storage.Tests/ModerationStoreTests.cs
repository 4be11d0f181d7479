namespace Wren.Storage.Tests;

/// <summary>Group settings, retracted messages and per-user hidden messages: durable and read back after a reopen.</summary>
public sealed class ModerationStoreTests
{
    [Fact]
    public async Task Settings_retractions_and_hidden_seqs_survive_a_reopen()
    {
        await using var t = TestStore.Create();
        var group = await t.Store.CreateGroupAsync(10, "team", [11]);
        ulong id = group.ConversationId;

        var updated = await t.Store.UpdateGroupAsync(id, "news", readOnly: true);
        var first = await t.Store.ClaimRetractionAsync(id, 3, 10, "r-1");
        var second = await t.Store.ClaimRetractionAsync(id, 3, 11, "r-2");
        await t.Store.ClaimRetractionAsync(id, 4, 10, "r-3");
        await t.Store.ReleaseRetractionAsync(id, 4);
        var hidden = await t.Store.HideAsync(11, id, [5, 2, 5]);
        var again = await t.Store.HideAsync(11, id, [2, 7]);

        Assert.Equal("news", updated!.Title);
        Assert.True(first.Claimed);
        Assert.Equal((false, 10UL, "r-1"), (second.Claimed, second.UserId, second.ClientMsgId));
        Assert.Equal([2UL, 5], hidden);
        Assert.Equal([7UL], again);
        Assert.Null(await t.Store.UpdateGroupAsync(99, "x", null));

        await t.ReopenAsync();

        Assert.Equal("news", t.Store.GetConversation(id)!.Title);
        Assert.True(t.Store.IsReadOnly(id));
        Assert.True(t.Store.IsRetracted(id, 3));
        Assert.False(t.Store.IsRetracted(id, 4));
        var claim = await t.Store.ClaimRetractionAsync(id, 3, 11, "r-4");
        Assert.Equal((false, 10UL, "r-1"), (claim.Claimed, claim.UserId, claim.ClientMsgId));
        Assert.Equal([2UL, 5, 7], t.Store.ListHidden(11, id, 0, 10));
        Assert.Equal([7UL], t.Store.ListHidden(11, id, 5, 10));
        Assert.True(t.Store.IsHidden(11, id, 5));
        Assert.False(t.Store.IsHidden(10, id, 5));
        Assert.Empty(t.Store.ListHidden(10, id, 0, 10));

        await t.Store.UpdateGroupAsync(id, null, readOnly: false);
        Assert.False(t.Store.IsReadOnly(id));
        Assert.Equal("news", t.Store.GetConversation(id)!.Title);
    }

    [Fact]
    public async Task MayHideAny_is_true_exactly_where_a_reader_has_something_to_filter()
    {
        await using var t = TestStore.Create();
        ulong a = (await t.Store.CreateGroupAsync(10, "a", [11])).ConversationId;
        ulong b = (await t.Store.CreateGroupAsync(10, "b", [11])).ConversationId;
        Assert.False(t.Store.MayHideAny(10, a));

        // A retraction concerns every reader of its conversation, and only that conversation.
        await t.Store.ClaimRetractionAsync(a, 3, 10, "r-1");
        await t.Store.ClaimRetractionAsync(a, 3, 11, "r-2");
        Assert.True(t.Store.MayHideAny(10, a));
        Assert.True(t.Store.MayHideAny(11, a));
        Assert.False(t.Store.MayHideAny(10, b));

        // A claim withdrawn leaves nothing to filter (the second claim of seq 3 above lost and counts once).
        await t.Store.ReleaseRetractionAsync(a, 3);
        Assert.False(t.Store.MayHideAny(10, a));
        await t.Store.ReleaseRetractionAsync(a, 3);
        await t.Store.ClaimRetractionAsync(a, 4, 10, "r-3");
        Assert.True(t.Store.MayHideAny(11, a));

        // A hidden message concerns the user who hid it.
        await t.Store.HideAsync(11, b, [2]);
        Assert.True(t.Store.MayHideAny(11, b));
        Assert.False(t.Store.MayHideAny(10, b));

        await t.ReopenAsync();
        Assert.True(t.Store.MayHideAny(10, a));
        Assert.True(t.Store.MayHideAny(11, b));
        Assert.False(t.Store.MayHideAny(10, b));
        await t.Store.ReleaseRetractionAsync(a, 4);
        Assert.False(t.Store.MayHideAny(10, a));
    }
}
