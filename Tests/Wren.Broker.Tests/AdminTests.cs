using System.Security.Cryptography;
using System.Text;
using Wren.Client;
using Wren.Protocol;
using ConversationKind = Wren.Protocol.Messages.ConversationKind;
using MemberRole = Wren.Protocol.Messages.MemberRole;
using StoreOptions = Wren.Storage.StoreOptions;
using WrenStore = Wren.Storage.WrenStore;

namespace Wren.Broker.Tests;

public class AdminTests
{
    private static async Task<string> AdminTokenAsync(TestBroker broker) =>
        (await File.ReadAllTextAsync(Path.Combine(broker.Directory, WrenServer.AdminTokenFile))).Trim();

    [Fact]
    public async Task Bootstrap_admin_creates_users_and_tokens_over_the_wire_and_they_can_chat()
    {
        await using var broker = await TestBroker.StartAsync();
        await using var admin = await broker.ConnectAsync(await AdminTokenAsync(broker));

        var alice = await admin.AdminCreateUserAsync("alice", "Alice");
        var bob = await admin.AdminCreateUserAsync("bob");
        var taken = await Assert.ThrowsAsync<WrenClientException>(() => admin.AdminCreateUserAsync("alice"));
        Assert.Equal(ErrorCode.Conflict, taken.Code);
        var aliceToken = await admin.AdminIssueTokenAsync("alice", "phone");
        var bobToken = await admin.AdminIssueTokenAsync("bob", "laptop", TimeSpan.FromDays(1));
        Assert.Equal(alice.UserId, aliceToken.UserId);
        Assert.True(bobToken.ExpiresMs > DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

        await using var a = await broker.ConnectAsync(aliceToken.Token);
        await using var b = await broker.ConnectAsync(bobToken.Token);
        var direct = await a.OpenDirectAsync(bob.UserId);
        await a.SendAsync(direct.ConversationId, Encoding.UTF8.GetBytes("hi"));
        Assert.Equal("hi", Encoding.UTF8.GetString((await Await.DeliveriesAsync(b, 1))[0].Body));

        var users = await admin.AdminListUsersAsync();
        Assert.Equal(["admin", "alice", "bob"], users.Items.Select(u => u.UserName));
        var stats = await admin.AdminStatsAsync();
        Assert.Equal(3ul, stats.Users);
        Assert.Equal(1ul, stats.Messages);
        Assert.True(stats.Connections >= 3);
        Assert.True(stats.OnlineUsers >= 3);
    }

    [Fact]
    public async Task Disabling_a_user_closes_its_sessions_and_refuses_its_tokens()
    {
        await using var broker = await TestBroker.StartAsync();
        await using var admin = await broker.ConnectAsync(await AdminTokenAsync(broker));
        var user = await admin.AdminCreateUserAsync("mallory");
        var token = await admin.AdminIssueTokenAsync("mallory", "d1");
        await using var m = await broker.ConnectAsync(token.Token, o => o.AutoReconnect = false);

        await admin.AdminSetDisabledAsync(user.UserId, disabled: true);
        await Await.UntilAsync(() => !m.IsConnected, "the disabled user's session to close");
        var refused = await Assert.ThrowsAsync<WrenClientException>(() => broker.ConnectAsync(token.Token));
        Assert.Equal(ErrorCode.AuthFailed, refused.Code);

        await admin.AdminSetDisabledAsync(user.UserId, disabled: false);
        await using var again = await broker.ConnectAsync(token.Token);
        Assert.True(again.IsConnected);
    }

    [Fact]
    public async Task Non_admins_get_Forbidden_for_admin_operations()
    {
        await using var broker = await TestBroker.StartAsync();
        var eve = await broker.CreateUserAsync("eve");
        await using var e = await broker.ConnectAsync(eve.Token);
        var forbidden = await Assert.ThrowsAsync<WrenClientException>(() => e.AdminCreateUserAsync("eve2"));
        Assert.Equal(ErrorCode.Forbidden, forbidden.Code);
        var stats = await Assert.ThrowsAsync<WrenClientException>(() => e.AdminStatsAsync());
        Assert.Equal(ErrorCode.Forbidden, stats.Code);
    }

    [Fact]
    public async Task Admin_inspects_any_conversation_log_in_pages_without_being_a_member()
    {
        await using var broker = await TestBroker.StartAsync();
        await using var admin = await broker.ConnectAsync(await AdminTokenAsync(broker));
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");
        await using var a = await broker.ConnectAsync(alice.Token);
        var direct = await a.OpenDirectAsync(bob.User.UserId);
        for (int i = 1; i <= 5; i++)
        {
            await a.SendAsync(direct.ConversationId, Encoding.UTF8.GetBytes("m" + i), "c" + i);
        }

        var first = await admin.AdminInspectLogAsync(direct.ConversationId, fromSeq: 0, limit: 2);
        Assert.Equal(ConversationKind.Direct, first.Kind);
        Assert.Equal(5ul, first.Head);
        Assert.Equal(2u, first.MemberCount);
        Assert.Equal([1ul, 2ul], first.Entries.Select(e => e.Seq));
        Assert.Equal("m1", Encoding.UTF8.GetString(first.Entries[0].Body));
        Assert.Equal(alice.User.UserId, first.Entries[0].SenderUserId);
        Assert.Equal("c1", first.Entries[0].ClientMsgId);
        Assert.True(first.More);

        var rest = await admin.AdminInspectLogAsync(direct.ConversationId, fromSeq: 3);
        Assert.Equal([3ul, 4ul, 5ul], rest.Entries.Select(e => e.Seq));
        Assert.False(rest.More);
        var past = await admin.AdminInspectLogAsync(direct.ConversationId, fromSeq: 6);
        Assert.Empty(past.Entries);
        Assert.False(past.More);

        var missing = await Assert.ThrowsAsync<WrenClientException>(() => admin.AdminInspectLogAsync(direct.ConversationId + 100));
        Assert.Equal(ErrorCode.NotFound, missing.Code);
        var member = await Assert.ThrowsAsync<WrenClientException>(() => a.AdminInspectLogAsync(direct.ConversationId));
        Assert.Equal(ErrorCode.Forbidden, member.Code);
    }

    [Fact]
    public async Task Admin_log_pages_stop_before_the_frame_limit()
    {
        await using var broker = await TestBroker.StartAsync();
        await using var admin = await broker.ConnectAsync(await AdminTokenAsync(broker));
        var alice = await broker.CreateUserAsync("alice");
        await using var a = await broker.ConnectAsync(alice.Token);
        var group = await a.CreateGroupAsync("big", []);
        var body = new byte[60_000];
        for (int i = 0; i < 20; i++)
        {
            await a.SendAsync(group.ConversationId, body);
        }

        var page = await admin.AdminInspectLogAsync(group.ConversationId);

        Assert.InRange(page.Entries.Length, 1, 17);
        Assert.True(page.More);
        Assert.Equal(Enumerable.Range(1, page.Entries.Length).Select(i => (ulong)i), page.Entries.Select(e => e.Seq));
        var next = await admin.AdminInspectLogAsync(group.ConversationId, page.Entries[^1].Seq + 1);
        Assert.Equal(page.Entries[^1].Seq + 1, next.Entries[0].Seq);
    }

    [Fact]
    public async Task Admin_lists_tokens_by_hash_id_and_revoking_one_closes_only_that_device()
    {
        await using var broker = await TestBroker.StartAsync();
        await using var admin = await broker.ConnectAsync(await AdminTokenAsync(broker));
        await admin.AdminCreateUserAsync("carol");
        var phone = await admin.AdminIssueTokenAsync("carol", "phone");
        var laptop = await admin.AdminIssueTokenAsync("carol", "laptop", TimeSpan.FromDays(1));
        await using var onPhone = await broker.ConnectAsync(phone.Token, o => o.AutoReconnect = false);
        await using var onLaptop = await broker.ConnectAsync(laptop.Token, o => o.AutoReconnect = false);

        var list = await admin.AdminListTokensAsync("carol");
        Assert.Equal(["phone", "laptop"], list.Items.Select(t => t.DeviceName));
        string phoneId = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(phone.Token)).AsSpan(0, 8));
        var listed = list.Items[0];
        Assert.Equal(phoneId, listed.TokenId);
        Assert.Equal(phone.DeviceId, listed.DeviceId);
        Assert.Equal(0, listed.ExpiresMs);
        Assert.True(list.Items[1].ExpiresMs > 0);
        Assert.All(list.Items, t => Assert.False(t.Revoked));
        Assert.All(list.Items, t => Assert.DoesNotContain(t.TokenId, phone.Token + laptop.Token));

        await admin.AdminRevokeTokenAsync("carol", phoneId);

        await Await.UntilAsync(() => !onPhone.IsConnected, "the revoked device's session to close");
        await onLaptop.PingAsync();
        Assert.True(onLaptop.IsConnected);
        var refused = await Assert.ThrowsAsync<WrenClientException>(() => broker.ConnectAsync(phone.Token));
        Assert.Equal(ErrorCode.AuthFailed, refused.Code);
        Assert.Equal([true, false], (await admin.AdminListTokensAsync("carol")).Items.Select(t => t.Revoked));
        await admin.AdminRevokeTokenAsync("carol", phoneId);

        var unknownToken = await Assert.ThrowsAsync<WrenClientException>(() => admin.AdminRevokeTokenAsync("carol", "0000000000000000"));
        Assert.Equal(ErrorCode.NotFound, unknownToken.Code);
        var unknownUser = await Assert.ThrowsAsync<WrenClientException>(() => admin.AdminListTokensAsync("nobody"));
        Assert.Equal(ErrorCode.NotFound, unknownUser.Code);
        var malformed = await Assert.ThrowsAsync<WrenClientException>(() => admin.AdminRevokeTokenAsync("carol", "not-an-id"));
        Assert.Equal(ErrorCode.InvalidArgument, malformed.Code);
    }

    [Fact]
    public async Task Admin_lists_a_users_conversations_as_that_user_sees_them()
    {
        await using var broker = await TestBroker.StartAsync();
        await using var admin = await broker.ConnectAsync(await AdminTokenAsync(broker));
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");
        await using var a = await broker.ConnectAsync(alice.Token);
        await using var b = await broker.ConnectAsync(bob.Token);
        var group = await a.CreateGroupAsync("team", [bob.User.UserId]);
        var direct = await a.OpenDirectAsync(bob.User.UserId);
        await a.SendAsync(group.ConversationId, Encoding.UTF8.GetBytes("one"));
        await a.SendAsync(group.ConversationId, Encoding.UTF8.GetBytes("two"));
        await b.MarkReadAsync(group.ConversationId, 1);

        var ofBob = await admin.AdminListUserConversationsAsync("bob");
        Assert.Equal([group.ConversationId, direct.ConversationId], ofBob.Items.Select(c => c.ConversationId));
        var bobsGroup = ofBob.Items[0];
        Assert.Equal(MemberRole.Member, bobsGroup.MyRole);
        Assert.Equal(1ul, bobsGroup.ReadSeq);
        Assert.Equal(2ul, bobsGroup.Head);
        Assert.Equal(alice.User.UserId, ofBob.Items[1].PeerUserId);
        Assert.False(ofBob.More);

        var ofAlice = await admin.AdminListUserConversationsAsync("alice", afterConversationId: 0, limit: 1);
        Assert.Equal(MemberRole.Owner, Assert.Single(ofAlice.Items).MyRole);
        Assert.True(ofAlice.More);
        var unknown = await Assert.ThrowsAsync<WrenClientException>(() => admin.AdminListUserConversationsAsync("nobody"));
        Assert.Equal(ErrorCode.NotFound, unknown.Code);
    }

    [Fact]
    public async Task Admin_sets_group_roles_but_not_in_direct_conversations_nor_demoting_the_last_owner()
    {
        await using var broker = await TestBroker.StartAsync();
        await using var admin = await broker.ConnectAsync(await AdminTokenAsync(broker));
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");
        var carol = await broker.CreateUserAsync("carol");
        await using var a = await broker.ConnectAsync(alice.Token);
        var group = await a.CreateGroupAsync("team", [bob.User.UserId]);
        var direct = await a.OpenDirectAsync(bob.User.UserId);

        await admin.AdminSetRoleAsync(group.ConversationId, bob.User.UserId, MemberRole.Muted);
        Assert.Equal(MemberRole.Muted, (await a.ListMembersAsync(group.ConversationId)).Members.Single(m => m.UserId == bob.User.UserId).Role);

        var lastOwner = await Assert.ThrowsAsync<WrenClientException>(() => admin.AdminSetRoleAsync(group.ConversationId, alice.User.UserId, MemberRole.Member));
        Assert.Equal(ErrorCode.Forbidden, lastOwner.Code);
        await admin.AdminSetRoleAsync(group.ConversationId, bob.User.UserId, MemberRole.Owner);
        await admin.AdminSetRoleAsync(group.ConversationId, alice.User.UserId, MemberRole.Admin);
        var roles = (await a.ListMembersAsync(group.ConversationId)).Members.ToDictionary(m => m.UserId, m => m.Role);
        Assert.Equal(MemberRole.Admin, roles[alice.User.UserId]);
        Assert.Equal(MemberRole.Owner, roles[bob.User.UserId]);

        var inDirect = await Assert.ThrowsAsync<WrenClientException>(() => admin.AdminSetRoleAsync(direct.ConversationId, bob.User.UserId, MemberRole.Admin));
        Assert.Equal(ErrorCode.Forbidden, inDirect.Code);
        var nonMember = await Assert.ThrowsAsync<WrenClientException>(() => admin.AdminSetRoleAsync(group.ConversationId, carol.User.UserId, MemberRole.Admin));
        Assert.Equal(ErrorCode.NotFound, nonMember.Code);
        var noGroup = await Assert.ThrowsAsync<WrenClientException>(() => admin.AdminSetRoleAsync(group.ConversationId + 100, bob.User.UserId, MemberRole.Admin));
        Assert.Equal(ErrorCode.NotFound, noGroup.Code);
        var badRole = await Assert.ThrowsAsync<WrenClientException>(() => admin.AdminSetRoleAsync(group.ConversationId, bob.User.UserId, (MemberRole)7));
        Assert.Equal(ErrorCode.InvalidArgument, badRole.Code);
        var byMember = await Assert.ThrowsAsync<WrenClientException>(() => a.AdminSetRoleAsync(group.ConversationId, alice.User.UserId, MemberRole.Owner));
        Assert.Equal(ErrorCode.Forbidden, byMember.Code);
    }

    [Fact]
    public async Task Admin_checkpoint_writes_a_copy_that_opens_with_the_same_data()
    {
        await using var broker = await TestBroker.StartAsync();
        await using var admin = await broker.ConnectAsync(await AdminTokenAsync(broker));
        var alice = await broker.CreateUserAsync("alice");
        await using var a = await broker.ConnectAsync(alice.Token);
        var group = await a.CreateGroupAsync("team", []);
        await a.SendAsync(group.ConversationId, Encoding.UTF8.GetBytes("kept"));
        string target = Path.Combine(Path.GetTempPath(), "wren-checkpoint-" + Guid.NewGuid().ToString("N"));
        try
        {
            await admin.AdminCheckpointAsync(target);

            var again = await Assert.ThrowsAsync<WrenClientException>(() => admin.AdminCheckpointAsync(target));
            Assert.Equal(ErrorCode.InvalidArgument, again.Code);
            var relative = await Assert.ThrowsAsync<WrenClientException>(() => admin.AdminCheckpointAsync("relative/copy"));
            Assert.Equal(ErrorCode.InvalidArgument, relative.Code);
            var noParent = await Assert.ThrowsAsync<WrenClientException>(() => admin.AdminCheckpointAsync(Path.Combine(target + "-missing", "copy")));
            Assert.Equal(ErrorCode.InvalidArgument, noParent.Code);

            await using var copy = WrenStore.Open(new StoreOptions { DataDirectory = target });
            Assert.NotNull(copy.FindUser("alice"));
            Assert.Equal(1ul, copy.GetHead(group.ConversationId)?.Head);
            Assert.Equal("kept", Encoding.UTF8.GetString(copy.ReadRange(group.ConversationId, 1, 1)[0].Body.Span));
        }
        finally
        {
            if (Directory.Exists(target))
            {
                Directory.Delete(target, recursive: true);
            }
        }
    }
}
