using System.Text;
using Wren.Client;
using Wren.Protocol;
using Wren.Protocol.Messages;

namespace Wren.Broker.Tests;

public class ChatTests
{
    private static byte[] Text(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task Direct_message_reaches_every_device_of_both_users()
    {
        await using var broker = await TestBroker.StartAsync();
        var alice1 = await broker.CreateUserAsync("alice", "phone");
        var alice2 = await broker.AddDeviceAsync("alice", "laptop");
        var bob1 = await broker.CreateUserAsync("bob", "phone");
        var bob2 = await broker.AddDeviceAsync("bob", "tablet");

        await using var a1 = await broker.ConnectAsync(alice1.Token);
        await using var a2 = await broker.ConnectAsync(alice2.Token);
        await using var b1 = await broker.ConnectAsync(bob1.Token);
        await using var b2 = await broker.ConnectAsync(bob2.Token);

        var direct = await a1.OpenDirectAsync(bob1.User.UserId);
        var again = await b1.OpenDirectAsync(alice1.User.UserId);
        Assert.Equal(direct.ConversationId, again.ConversationId);
        Assert.Equal(ConversationKind.Direct, direct.Kind);

        var ack = await a1.SendAsync(direct.ConversationId, Text("hello bob"), "m-1");
        Assert.Equal(1ul, ack.Seq);
        Assert.False(ack.Duplicate);

        foreach (var device in new[] { a1, a2, b1, b2 })
        {
            var delivered = Assert.Single(await Await.DeliveriesAsync(device, 1));
            Assert.Equal(direct.ConversationId, delivered.ConversationId);
            Assert.Equal(1ul, delivered.Seq);
            Assert.Equal(ack.Epoch, delivered.Epoch);
            Assert.Equal(alice1.User.UserId, delivered.SenderUserId);
            Assert.Equal(alice1.Device.DeviceId, delivered.SenderDeviceId);
            Assert.Equal("m-1", delivered.ClientMsgId);
            Assert.Equal("hello bob", Encoding.UTF8.GetString(delivered.Body));
        }
    }

    [Fact]
    public async Task Offline_device_catches_up_in_order_on_reconnect()
    {
        await using var broker = await TestBroker.StartAsync();
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");
        await using var a = await broker.ConnectAsync(alice.Token);
        var direct = await a.OpenDirectAsync(bob.User.UserId);

        for (int i = 1; i <= 50; i++)
        {
            await a.SendAsync(direct.ConversationId, Text($"m{i}"), $"id-{i}");
        }

        await using var b = await broker.ConnectAsync(bob.Token);
        var received = await Await.DeliveriesAsync(b, 50);
        Assert.Equal(Enumerable.Range(1, 50).Select(i => (ulong)i), received.Select(d => d.Seq));
        Assert.Equal(Enumerable.Range(1, 50).Select(i => $"m{i}"), received.Select(d => Encoding.UTF8.GetString(d.Body)));
    }

    [Fact]
    public async Task Send_with_same_client_id_returns_original_seq_and_other_body_conflicts()
    {
        await using var broker = await TestBroker.StartAsync();
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");
        await using var a = await broker.ConnectAsync(alice.Token);
        var direct = await a.OpenDirectAsync(bob.User.UserId);

        var first = await a.SendAsync(direct.ConversationId, Text("once"), "same-id");
        await a.SendAsync(direct.ConversationId, Text("other"), "other-id");
        var retry = await a.SendAsync(direct.ConversationId, Text("once"), "same-id");
        Assert.Equal(first.Seq, retry.Seq);
        Assert.True(retry.Duplicate);

        var conflict = await Assert.ThrowsAsync<WrenClientException>(() => a.SendAsync(direct.ConversationId, Text("changed"), "same-id"));
        Assert.Equal(ErrorCode.Conflict, conflict.Code);

        var history = await a.HistoryAsync(direct.ConversationId);
        Assert.Equal(2, history.Messages.Length);
    }

    [Fact]
    public async Task Non_member_gets_the_same_NotFound_as_for_a_missing_conversation()
    {
        await using var broker = await TestBroker.StartAsync();
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");
        var eve = await broker.CreateUserAsync("eve");
        await using var a = await broker.ConnectAsync(alice.Token);
        await using var e = await broker.ConnectAsync(eve.Token);
        var direct = await a.OpenDirectAsync(bob.User.UserId);

        var onExisting = await Assert.ThrowsAsync<WrenClientException>(() => e.SendAsync(direct.ConversationId, Text("x")));
        var onMissing = await Assert.ThrowsAsync<WrenClientException>(() => e.SendAsync(999_999, Text("x")));
        Assert.Equal(ErrorCode.NotFound, onExisting.Code);
        Assert.Equal(onMissing.Code, onExisting.Code);
        Assert.Equal(onMissing.Message, onExisting.Message);

        var historyExisting = await Assert.ThrowsAsync<WrenClientException>(() => e.HistoryAsync(direct.ConversationId));
        var historyMissing = await Assert.ThrowsAsync<WrenClientException>(() => e.HistoryAsync(999_999));
        Assert.Equal(historyMissing.Message, historyExisting.Message);
        Assert.Equal(ErrorCode.NotFound, historyExisting.Code);
    }

    [Fact]
    public async Task Group_message_fans_out_to_members_and_not_to_outsiders()
    {
        await using var broker = await TestBroker.StartAsync();
        var owner = await broker.CreateUserAsync("owner");
        var m1 = await broker.CreateUserAsync("m1");
        var m2 = await broker.CreateUserAsync("m2");
        var outsider = await broker.CreateUserAsync("outsider");
        await using var o = await broker.ConnectAsync(owner.Token);
        await using var c1 = await broker.ConnectAsync(m1.Token);
        await using var c2 = await broker.ConnectAsync(m2.Token);
        await using var x = await broker.ConnectAsync(outsider.Token);

        var group = await o.CreateGroupAsync("team", [m1.User.UserId]);
        await o.AddMembersAsync(group.ConversationId, [m2.User.UserId]);
        await o.SendAsync(group.ConversationId, Text("hi team"));

        Assert.Equal("hi team", Encoding.UTF8.GetString(Assert.Single(await Await.DeliveriesAsync(c1, 1)).Body));
        Assert.Equal("hi team", Encoding.UTF8.GetString(Assert.Single(await Await.DeliveriesAsync(c2, 1)).Body));
        var members = await o.ListMembersAsync(group.ConversationId);
        Assert.Equal(3, members.Members.Length);
        await x.PingAsync();
        Assert.False(x.Events.TryRead(out var leaked) && leaked is Deliver, "an outsider received a group message");

        var forbidden = await Assert.ThrowsAsync<WrenClientException>(() => c1.AddMembersAsync(group.ConversationId, [outsider.User.UserId]));
        Assert.Equal(ErrorCode.Forbidden, forbidden.Code);
    }

    /// <summary>
    /// Pins the bug where every OpenDirect moved both users' read and delivered cursors to the head, marking the peer's
    /// unread messages read and making offline devices skip what they had not acknowledged.
    /// </summary>
    [Fact]
    public async Task Opening_an_existing_direct_conversation_moves_no_cursor()
    {
        await using var broker = await TestBroker.StartAsync();
        var carol = await broker.CreateUserAsync("carol");
        var dave = await broker.CreateUserAsync("dave");
        await using var c = await broker.ConnectAsync(carol.Token);
        var direct = await c.OpenDirectAsync(dave.User.UserId);
        await using (var d = await broker.ConnectAsync(dave.Token))
        {
            await d.SendAsync(direct.ConversationId, Text("unread for carol"));
            await Await.DeliveriesAsync(c, 1);
        }

        // Carol's read cursor stays at 0 when dave opens the conversation again.
        await using (var d = await broker.ConnectAsync(dave.Token))
        {
            await d.OpenDirectAsync(carol.User.UserId);
        }

        var list = await c.ListConversationsAsync();
        Assert.Equal(1ul, list.Items[0].Head - list.Items[0].ReadSeq);

        // A device that has acknowledged nothing still gets the whole conversation after the peer reopened it.
        var carol2 = await broker.AddDeviceAsync("carol", "tablet");
        await using (var d = await broker.ConnectAsync(dave.Token))
        {
            await d.SendAsync(direct.ConversationId, Text("second"));
            await d.OpenDirectAsync(carol.User.UserId);
        }

        await using var c2 = await broker.ConnectAsync(carol2.Token);
        var replay = await Await.DeliveriesAsync(c2, 2);
        Assert.Equal(["unread for carol", "second"], replay.Select(r => Encoding.UTF8.GetString(r.Body)));
    }
}
