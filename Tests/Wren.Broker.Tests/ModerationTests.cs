using System.Buffers.Binary;
using System.Text;
using Wren.Client;
using Wren.Protocol;
using Wren.Protocol.Messages;

namespace Wren.Broker.Tests;

/// <summary>Recall, edit, delete and delete-for-me as log events, and the role rules of docs/security.md.</summary>
public sealed class ModerationTests
{
    private static byte[] Text(string s) => Encoding.UTF8.GetBytes(s);

    private static ulong Target(Deliver deliver) => BinaryPrimitives.ReadUInt64BigEndian(deliver.Body);

    [Fact]
    public async Task Recall_is_a_log_event_delivered_to_every_device_of_every_member_and_blanks_the_target_in_history()
    {
        await using var people = await AliceTwiceAndBob.StartAsync();
        var (phone, laptop, b) = people;
        var group = await phone.CreateGroupAsync("team", [people.BobUserId]);
        var sent = await phone.SendAsync(group.ConversationId, Text("oops"));

        var recall = await phone.RecallAsync(group.ConversationId, sent.Seq);

        Assert.Equal(sent.Seq + 1, recall.Seq);
        foreach (var device in new[] { phone, laptop, b })
        {
            var received = await Await.DeliveriesAsync(device, 2);
            Assert.Equal(EntryKind.Recall, received[1].Kind);
            Assert.Equal(sent.Seq, Target(received[1]));
            Assert.Equal(people.AliceUserId, received[1].SenderUserId);
        }

        var history = await b.HistoryAsync(group.ConversationId);
        Assert.Equal([EntryKind.Message, EntryKind.Recall], history.Messages.Select(m => m.Kind));
        Assert.Empty(history.Messages[0].Body);

        // A device that was offline gets the event through sync, so every device converges.
        var bobTablet = await people.Broker.AddDeviceAsync("bob", "tablet");
        await using var tablet = await people.Broker.ConnectAsync(bobTablet.Token);
        var synced = await tablet.SyncConversationAsync(group.ConversationId, 0);
        Assert.Equal(recall.Seq, synced.Conversations[0].Head);
        var replayed = await Await.DeliveriesAsync(tablet, 2);
        Assert.Empty(replayed[0].Body);
        Assert.Equal(EntryKind.Recall, replayed[1].Kind);
    }

    [Fact]
    public async Task Recall_retry_with_the_same_id_returns_the_original_seq_and_a_second_recall_is_NotFound()
    {
        await using var broker = await TestBroker.StartAsync();
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");
        await using var a = await broker.ConnectAsync(alice.Token);
        var direct = await a.OpenDirectAsync(bob.User.UserId);
        var sent = await a.SendAsync(direct.ConversationId, Text("x"));

        var first = await a.RecallAsync(direct.ConversationId, sent.Seq, "recall-1");
        var retry = await a.RecallAsync(direct.ConversationId, sent.Seq, "recall-1");
        var again = await Assert.ThrowsAsync<WrenClientException>(() => a.RecallAsync(direct.ConversationId, sent.Seq, "recall-2"));
        var editRecalled = await Assert.ThrowsAsync<WrenClientException>(() => a.EditAsync(direct.ConversationId, sent.Seq, Text("y")));
        var recallEvent = await Assert.ThrowsAsync<WrenClientException>(() => a.RecallAsync(direct.ConversationId, first.Seq));
        var missing = await Assert.ThrowsAsync<WrenClientException>(() => a.RecallAsync(direct.ConversationId, 99));

        Assert.Equal(first.Seq, retry.Seq);
        Assert.True(retry.Duplicate);
        Assert.Equal(ErrorCode.NotFound, again.Code);
        Assert.Equal(ErrorCode.NotFound, editRecalled.Code);
        Assert.Equal(ErrorCode.InvalidArgument, recallEvent.Code);
        Assert.Equal(ErrorCode.NotFound, missing.Code);
    }

    [Fact]
    public async Task Members_recall_their_own_messages_only_within_the_window_and_admins_any_time()
    {
        await using var team = await Team.StartAsync(o => o.Limits.RecallWindow = TimeSpan.FromSeconds(1));
        var (o, m, group) = team;
        var early = await m.SendAsync(group.ConversationId, Text("quick"));
        await m.RecallAsync(group.ConversationId, early.Seq);
        var late = await m.SendAsync(group.ConversationId, Text("slow"));
        await Await.UntilAsync(() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() > late.ServerTimeMs + 1200, "the recall window to pass");

        var refused = await Assert.ThrowsAsync<WrenClientException>(() => m.RecallAsync(group.ConversationId, late.Seq));
        var byOwner = await o.RecallAsync(group.ConversationId, late.Seq);

        Assert.Equal(ErrorCode.Forbidden, refused.Code);
        Assert.Contains("window", refused.Message, StringComparison.Ordinal);
        Assert.True(byOwner.Seq > late.Seq);
    }

    [Fact]
    public async Task Only_the_sender_edits_and_only_moderators_delete()
    {
        await using var team = await Team.StartAsync();
        var (o, m, group) = team;
        var mine = await m.SendAsync(group.ConversationId, Text("helo"));
        var owners = await o.SendAsync(group.ConversationId, Text("rules"));

        var edit = await m.EditAsync(group.ConversationId, mine.Seq, Text("hello"));
        var editOthers = await Assert.ThrowsAsync<WrenClientException>(() => o.EditAsync(group.ConversationId, mine.Seq, Text("x")));
        var deleteByMember = await Assert.ThrowsAsync<WrenClientException>(() => m.DeleteMessageAsync(group.ConversationId, owners.Seq));
        var delete = await o.DeleteMessageAsync(group.ConversationId, mine.Seq);

        Assert.Equal(ErrorCode.Forbidden, editOthers.Code);
        Assert.Equal(ErrorCode.Forbidden, deleteByMember.Code);
        var history = await m.HistoryAsync(group.ConversationId);
        var editEntry = history.Messages.Single(e => e.Seq == edit.Seq);
        var deleteEntry = history.Messages.Single(e => e.Seq == delete.Seq);
        Assert.Equal(EntryKind.Edit, editEntry.Kind);
        Assert.Equal(EntryKind.Delete, deleteEntry.Kind);
        Assert.Equal(mine.Seq, Target(deleteEntry));

        // The deleted message and the edit's new content are both withheld; the edit keeps its target reference.
        Assert.Empty(history.Messages.Single(e => e.Seq == mine.Seq).Body);
        Assert.Equal(8, editEntry.Body.Length);
        Assert.Equal(mine.Seq, Target(editEntry));
        Assert.Equal("rules", Encoding.UTF8.GetString(history.Messages.Single(e => e.Seq == owners.Seq).Body));
    }

    [Fact]
    public async Task Delete_for_me_hides_on_all_of_the_users_devices_and_nobody_elses()
    {
        await using var people = await AliceTwiceAndBob.StartAsync();
        var (phone, laptop, b) = people;
        var direct = await phone.OpenDirectAsync(people.BobUserId);
        var sent = await b.SendAsync(direct.ConversationId, Text("secret"));

        await phone.DeleteForMeAsync(direct.ConversationId, [sent.Seq]);

        var pushed = await Await.EventAsync<HiddenList>(laptop);
        Assert.Equal([sent.Seq], pushed.Seqs);
        Assert.Equal([sent.Seq], (await laptop.ListHiddenAsync(direct.ConversationId)).Seqs);
        Assert.Empty((await laptop.HistoryAsync(direct.ConversationId)).Messages.Single().Body);
        Assert.Equal("secret", Encoding.UTF8.GetString((await b.HistoryAsync(direct.ConversationId)).Messages.Single().Body));
        Assert.Empty((await b.ListHiddenAsync(direct.ConversationId)).Seqs);
        var beyond = await Assert.ThrowsAsync<WrenClientException>(() => phone.DeleteForMeAsync(direct.ConversationId, [sent.Seq + 5]));
        Assert.Equal(ErrorCode.NotFound, beyond.Code);

        // Devices that connect later catch up on the same view: blank for the user who hid it, whole for the other.
        var aliceTablet = await people.Broker.AddDeviceAsync("alice", "tablet");
        var bobTablet = await people.Broker.AddDeviceAsync("bob", "tablet");
        await using var at = await people.Broker.ConnectAsync(aliceTablet.Token);
        await using var bt = await people.Broker.ConnectAsync(bobTablet.Token);
        Assert.Empty((await Await.DeliveriesAsync(at, 1))[0].Body);
        Assert.Equal("secret", Encoding.UTF8.GetString((await Await.DeliveriesAsync(bt, 1))[0].Body));
    }

    [Fact]
    public async Task Nobody_raises_their_own_role_and_the_last_owner_is_never_demoted_removed_or_gone()
    {
        await using var broker = await TestBroker.StartAsync();
        var owner = await broker.CreateUserAsync("owner");
        var admin = await broker.CreateUserAsync("admin");
        var member = await broker.CreateUserAsync("member");
        await using var o = await broker.ConnectAsync(owner.Token);
        await using var a = await broker.ConnectAsync(admin.Token);
        await using var m = await broker.ConnectAsync(member.Token);
        var group = await o.CreateGroupAsync("team", [admin.User.UserId, member.User.UserId]);
        ulong id = group.ConversationId;
        await o.SetRoleAsync(id, admin.User.UserId, MemberRole.Admin);

        async Task Refused(Func<Task> action, string what)
        {
            var ex = await Assert.ThrowsAsync<WrenClientException>(action);
            Assert.True(ex.Code == ErrorCode.Forbidden, $"{what}: {ex.Code} {ex.Message}");
        }

        await Refused(() => a.SetRoleAsync(id, admin.User.UserId, MemberRole.Owner), "admin makes self owner");
        await Refused(() => m.SetRoleAsync(id, member.User.UserId, MemberRole.Admin), "member makes self admin");
        await Refused(() => a.SetRoleAsync(id, member.User.UserId, MemberRole.Owner), "admin grants owner");
        await Refused(() => a.SetRoleAsync(id, owner.User.UserId, MemberRole.Member), "admin demotes the owner");
        await Refused(() => a.RemoveMembersAsync(id, [owner.User.UserId]), "admin removes the owner");
        await Refused(() => o.SetRoleAsync(id, owner.User.UserId, MemberRole.Admin), "last owner demotes self");
        await Refused(() => o.LeaveGroupAsync(id), "last owner leaves");
        await Refused(() => o.RemoveMembersAsync(id, [owner.User.UserId]), "last owner removes self");

        // Admins mute members; with a second owner the first may step down.
        await a.SetRoleAsync(id, member.User.UserId, MemberRole.Muted);
        await Refused(() => m.SendAsync(id, Text("x")), "muted member sends");
        await o.SetRoleAsync(id, admin.User.UserId, MemberRole.Owner);
        await o.SetRoleAsync(id, owner.User.UserId, MemberRole.Member);
        await Refused(() => a.SetRoleAsync(id, admin.User.UserId, MemberRole.Member), "new last owner demotes self");
        await o.LeaveGroupAsync(id);

        var members = await a.ListMembersAsync(id);
        Assert.Equal(
            [(admin.User.UserId, MemberRole.Owner), (member.User.UserId, MemberRole.Muted)],
            members.Members.Select(x => (x.UserId, x.Role)).OrderBy(x => x.UserId));
        Assert.Equal(ErrorCode.NotFound, (await Assert.ThrowsAsync<WrenClientException>(() => o.HistoryAsync(id))).Code);
    }

    [Fact]
    public async Task A_removed_member_stops_receiving_at_once_on_a_live_connection()
    {
        await using var team = await Team.StartAsync();
        var (o, b, group) = team;
        var before = await o.SendAsync(group.ConversationId, Text("before"));
        Assert.Equal(before.Seq, Assert.Single(await Await.DeliveriesAsync(b, 1)).Seq);

        await o.RemoveMembersAsync(group.ConversationId, [team.MemberUserId]);
        await o.SendAsync(group.ConversationId, Text("after"));
        await o.TypingAsync(group.ConversationId, true);
        await o.PingAsync();
        await b.PingAsync();

        while (b.Events.TryRead(out var leaked))
        {
            Assert.False(leaked is Deliver or Typing, $"a removed member received {leaked.Type}");
        }

        var refused = await Assert.ThrowsAsync<WrenClientException>(() => b.SendAsync(group.ConversationId, Text("still here?")));
        Assert.Equal(ErrorCode.NotFound, refused.Code);
    }

    [Fact]
    public async Task Group_settings_change_the_title_and_read_only_mode_and_are_audited()
    {
        await using var team = await Team.StartAsync();
        var (o, m, group) = team;
        long audited = team.Broker.Server.Core.Audit.Recorded;

        var settings = await o.UpdateGroupAsync(group.ConversationId, title: "announcements", readOnly: true);

        Assert.Equal("announcements", settings.Title);
        Assert.True(settings.ReadOnly);
        Assert.Equal(120_000u, settings.RecallWindowMs);
        Assert.Equal("announcements", (await m.GetGroupSettingsAsync(group.ConversationId)).Title);
        Assert.Equal("announcements", (await m.ListConversationsAsync()).Items.Single().Title);
        Assert.Equal(ErrorCode.Forbidden, (await Assert.ThrowsAsync<WrenClientException>(() => m.SendAsync(group.ConversationId, Text("x")))).Code);
        Assert.Equal(ErrorCode.Forbidden, (await Assert.ThrowsAsync<WrenClientException>(() => m.UpdateGroupAsync(group.ConversationId, readOnly: false))).Code);
        Assert.True(team.Broker.Server.Core.Audit.Recorded > audited);
    }

    /// <summary>A broker and the clients connected through <see cref="ConnectAsync"/>, disposed together: clients last first, then the broker.</summary>
    private abstract class Connected(TestBroker broker) : IAsyncDisposable
    {
        private readonly List<WrenClient> _clients = [];

        public TestBroker Broker { get; } = broker;

        public async ValueTask DisposeAsync()
        {
            for (int i = _clients.Count - 1; i >= 0; i--)
            {
                await _clients[i].DisposeAsync();
            }

            await Broker.DisposeAsync();
        }

        /// <summary>Runs <paramref name="setUp"/> on <paramref name="fixture"/>; when it throws, disposes what it made.</summary>
        protected static async Task<T> SetUpAsync<T>(T fixture, Func<T, Task> setUp)
            where T : Connected
        {
            try
            {
                await setUp(fixture);
                return fixture;
            }
            catch
            {
                await fixture.DisposeAsync();
                throw;
            }
        }

        protected async Task<WrenClient> ConnectAsync(string token)
        {
            var client = await Broker.ConnectAsync(token);
            _clients.Add(client);
            return client;
        }
    }

    /// <summary>A broker with "owner" and "member" connected, and the group "team" of the two that the owner created.</summary>
    private sealed class Team(TestBroker broker) : Connected(broker)
    {
        public WrenClient Owner { get; private set; } = null!;

        public WrenClient Member { get; private set; } = null!;

        public ulong MemberUserId { get; private set; }

        public ConversationInfo Group { get; private set; } = null!;

        public static async Task<Team> StartAsync(Action<WrenOptions>? configure = null) =>
            await SetUpAsync(new Team(await TestBroker.StartAsync(configure)), async team =>
            {
                var owner = await team.Broker.CreateUserAsync("owner");
                var member = await team.Broker.CreateUserAsync("member");
                team.MemberUserId = member.User.UserId;
                team.Owner = await team.ConnectAsync(owner.Token);
                team.Member = await team.ConnectAsync(member.Token);
                team.Group = await team.Owner.CreateGroupAsync("team", [member.User.UserId]);
            });

        public void Deconstruct(out WrenClient owner, out WrenClient member, out ConversationInfo group)
        {
            owner = Owner;
            member = Member;
            group = Group;
        }
    }

    /// <summary>A broker with alice connected on her phone and her laptop, and bob connected on one device.</summary>
    private sealed class AliceTwiceAndBob(TestBroker broker) : Connected(broker)
    {
        public WrenClient Phone { get; private set; } = null!;

        public WrenClient Laptop { get; private set; } = null!;

        public WrenClient Bob { get; private set; } = null!;

        public ulong AliceUserId { get; private set; }

        public ulong BobUserId { get; private set; }

        public static async Task<AliceTwiceAndBob> StartAsync() =>
            await SetUpAsync(new AliceTwiceAndBob(await TestBroker.StartAsync()), async people =>
            {
                var alice = await people.Broker.CreateUserAsync("alice", "phone");
                var aliceLaptop = await people.Broker.AddDeviceAsync("alice", "laptop");
                var bob = await people.Broker.CreateUserAsync("bob");
                people.AliceUserId = alice.User.UserId;
                people.BobUserId = bob.User.UserId;
                people.Phone = await people.ConnectAsync(alice.Token);
                people.Laptop = await people.ConnectAsync(aliceLaptop.Token);
                people.Bob = await people.ConnectAsync(bob.Token);
            });

        public void Deconstruct(out WrenClient phone, out WrenClient laptop, out WrenClient bob)
        {
            phone = Phone;
            laptop = Laptop;
            bob = Bob;
        }
    }
}
