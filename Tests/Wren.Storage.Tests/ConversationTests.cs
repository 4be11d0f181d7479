namespace Wren.Storage.Tests;

public sealed class ConversationTests
{
    [Fact]
    public async Task CreateGroup_makes_the_owner_an_owner_and_indexes_every_member()
    {
        await using var t = TestStore.Create();
        var group = await t.Store.CreateGroupAsync(10, "team", [11, 12, 12, 10]);

        Assert.Equal(1UL, group.ConversationId);
        Assert.Equal(ConversationKind.Group, group.Kind);
        Assert.Equal("team", group.Title);
        Assert.Equal(3, group.MemberCount);
        Assert.Equal(MemberRole.Owner, t.Store.GetMember(1, 10)!.Value.Role);
        Assert.Equal(MemberRole.Member, t.Store.GetMember(1, 11)!.Value.Role);
        Assert.Null(t.Store.GetMember(1, 13));
        Assert.Equal([10UL, 11, 12], t.Store.GetMemberIds(1));
        Assert.Equal([1UL], t.Store.GetUserConversations(12));
        Assert.Equal(group, t.Store.GetConversation(1));
        Assert.Null(t.Store.GetConversation(2));

        var second = await t.Store.CreateGroupAsync(10, "other", []);
        Assert.Equal(2UL, second.ConversationId);
        Assert.Equal([1UL, 2], t.Store.GetUserConversations(10));
    }

    [Fact]
    public async Task Direct_conversation_is_one_per_unordered_pair()
    {
        await using var t = TestStore.Create();
        var ab = await t.Store.GetOrCreateDirectAsync(1, 2);
        var ba = await t.Store.GetOrCreateDirectAsync(2, 1);
        var ac = await t.Store.GetOrCreateDirectAsync(1, 3);

        Assert.Equal(ab.ConversationId, ba.ConversationId);
        Assert.NotEqual(ab.ConversationId, ac.ConversationId);
        Assert.Equal(ConversationKind.Direct, ab.Kind);
        Assert.Equal(2, ab.MemberCount);
        Assert.Equal([1UL, 2], t.Store.GetMemberIds(ab.ConversationId));
    }

    [Fact]
    public async Task Concurrent_GetOrCreateDirect_creates_one_conversation()
    {
        await using var t = TestStore.Create();
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            i % 2 == 0 ? t.Store.GetOrCreateDirectAsync(5, 6).AsTask() : t.Store.GetOrCreateDirectAsync(6, 5).AsTask()));
        Assert.Single(results.Select(r => r.ConversationId).Distinct());
        Assert.Equal(1, t.Store.GetStatistics().Conversations);
    }

    [Fact]
    public async Task Add_remove_and_role_changes_update_members_and_the_user_index()
    {
        await using var t = TestStore.Create();
        var id = (await t.Store.CreateGroupAsync(1, "g", [2])).ConversationId;

        Assert.Equal([3UL, 4], await t.Store.AddMembersAsync(id, [2, 3, 4, 3], MemberRole.Admin));
        Assert.Equal(MemberRole.Member, t.Store.GetMember(id, 2)!.Value.Role);
        Assert.Equal(MemberRole.Admin, t.Store.GetMember(id, 3)!.Value.Role);
        Assert.Equal(4, t.Store.GetConversation(id)!.MemberCount);
        Assert.Equal([id], t.Store.GetUserConversations(4));

        Assert.Equal([2UL], await t.Store.RemoveMembersAsync(id, [2, 9]));
        Assert.Null(t.Store.GetMember(id, 2));
        Assert.Empty(t.Store.GetUserConversations(2));
        Assert.Equal([1UL, 3, 4], t.Store.GetMemberIds(id));

        Assert.True(await t.Store.SetRoleAsync(id, 4, MemberRole.Muted));
        Assert.Equal(MemberRole.Muted, t.Store.GetMember(id, 4)!.Value.Role);
        Assert.False(await t.Store.SetRoleAsync(id, 2, MemberRole.Admin));
    }

    [Fact]
    public async Task Unknown_conversation_changes_nothing()
    {
        await using var t = TestStore.Create();
        Assert.Empty(await t.Store.AddMembersAsync(99, [1]));
        Assert.Empty(await t.Store.RemoveMembersAsync(99, [1]));
        Assert.False(await t.Store.SetRoleAsync(99, 1, MemberRole.Admin));
        Assert.Empty(t.Store.GetMemberIds(99));
        Assert.Empty(t.Store.ListMembers(99, 0, 10));
        Assert.Empty(t.Store.GetUserConversations(1));
    }

    [Fact]
    public async Task ListMembers_pages_by_user_id()
    {
        await using var t = TestStore.Create();
        var id = (await t.Store.CreateGroupAsync(5, "g", [1, 9, 3, 7])).ConversationId;

        Assert.Equal([1UL, 3], t.Store.ListMembers(id, 0, 2).Select(m => m.UserId));
        Assert.Equal([5UL, 7], t.Store.ListMembers(id, 3, 2).Select(m => m.UserId));
        Assert.Equal([7UL, 9], t.Store.ListMembers(id, 6, 10).Select(m => m.UserId));
        Assert.Empty(t.Store.ListMembers(id, 9, 10));
        Assert.Empty(t.Store.ListMembers(id, 0, 0));
    }

    [Fact]
    public async Task GetMemberIds_returns_the_same_snapshot_until_membership_changes()
    {
        await using var t = TestStore.Create();
        var id = (await t.Store.CreateGroupAsync(1, "g", [2])).ConversationId;
        var before = t.Store.GetMemberIds(id);
        Assert.Same(before, t.Store.GetMemberIds(id));

        await t.Store.AddMembersAsync(id, [3]);

        var after = t.Store.GetMemberIds(id);
        Assert.NotSame(before, after);
        Assert.Equal([1UL, 2], before);
        Assert.Equal([1UL, 2, 3], after);
    }
}
