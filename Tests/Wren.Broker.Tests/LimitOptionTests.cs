using System.Text;
using Wren.Protocol;
using Wren.Protocol.Messages;

namespace Wren.Broker.Tests;

/// <summary>Each routing-core limit, crossed: the documented error, and the operation just under it still works.</summary>
public class LimitOptionTests
{
    [Fact]
    public async Task Group_larger_than_MaxGroupMembers_is_refused_with_LimitExceeded()
    {
        await using var broker = await TestBroker.StartAsync(o => o.Limits.MaxGroupMembers = 3);
        var owner = await broker.CreateUserAsync("owner");
        var u1 = await broker.CreateUserAsync("u1");
        var u2 = await broker.CreateUserAsync("u2");
        var u3 = await broker.CreateUserAsync("u3");
        await using var o = await broker.ConnectAsync(owner.Token);

        var full = await o.CreateGroupAsync("three", [u1.User.UserId, u2.User.UserId]);
        Assert.Equal(3u, full.MemberCount);
        var tooMany = await Assert.ThrowsAsync<Client.WrenClientException>(() => o.CreateGroupAsync("four", [u1.User.UserId, u2.User.UserId, u3.User.UserId]));
        Assert.Equal(ErrorCode.LimitExceeded, tooMany.Code);
        var addOne = await Assert.ThrowsAsync<Client.WrenClientException>(() => o.AddMembersAsync(full.ConversationId, [u3.User.UserId]));
        Assert.Equal(ErrorCode.LimitExceeded, addOne.Code);
    }

    [Fact]
    public async Task Conversation_past_MaxConversationsPerUser_is_refused_with_LimitExceeded()
    {
        await using var broker = await TestBroker.StartAsync(o => o.Limits.MaxConversationsPerUser = 2);
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");
        await using var a = await broker.ConnectAsync(alice.Token);
        await a.CreateGroupAsync("one", []);
        await a.CreateGroupAsync("two", [bob.User.UserId]);
        var third = await Assert.ThrowsAsync<Client.WrenClientException>(() => a.CreateGroupAsync("three", []));
        Assert.Equal(ErrorCode.LimitExceeded, third.Code);
    }

    [Fact]
    public async Task Sends_past_SendsPerSecond_get_RateLimited_with_a_retry_delay()
    {
        await using var broker = await TestBroker.StartAsync(o => o.Limits.SendsPerSecond = 2);
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");
        await using var a = await broker.ConnectAsync(alice.Token, o => o.AutoReconnect = false);
        var direct = await a.OpenDirectAsync(bob.User.UserId);

        var outcomes = new List<Client.WrenClientException?>();
        for (int i = 0; i < 10; i++)
        {
            try
            {
                await a.SendAsync(direct.ConversationId, Encoding.UTF8.GetBytes($"m{i}"));
                outcomes.Add(null);
            }
            catch (Client.WrenClientException ex)
            {
                outcomes.Add(ex);
            }
        }

        // Burst of 2 × rate, then refused until tokens come back.
        Assert.True(outcomes.Take(4).All(o => o is null), "the burst must be accepted");
        var limited = outcomes.Where(o => o is not null).ToList();
        Assert.NotEmpty(limited);
        Assert.All(limited, l => Assert.Equal(ErrorCode.RateLimited, l!.Code));
        Assert.All(limited, l => Assert.InRange(l!.RetryAfterMs, 1u, 1000u));
    }

    [Fact]
    public async Task Typing_past_TypingPerSecond_is_not_relayed_and_is_answered_RateLimited()
    {
        await using var broker = await TestBroker.StartAsync(o => o.Limits.TypingPerSecond = 3);
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");
        await using var a = await broker.ConnectAsync(alice.Token);
        await using var b = await broker.ConnectAsync(bob.Token);
        var direct = await a.OpenDirectAsync(bob.User.UserId);

        for (int i = 0; i < 30; i++)
        {
            await a.TypingAsync(direct.ConversationId, i % 2 == 0);
        }

        // Ping after the typing frames: the broker handles one connection's frames in order, so once the Pong is back
        // every relayed Typing is already queued to bob; bob's own ping then flushes his side.
        await a.PingAsync();
        await b.PingAsync();
        int received = 0;
        while (b.Events.TryRead(out var message))
        {
            if (message is Typing)
            {
                received++;
            }
        }

        int limited = 0;
        while (a.Events.TryRead(out var message))
        {
            if (message is Error { Code: ErrorCode.RateLimited, RetryAfterMs: > 0 })
            {
                limited++;
            }
        }

        Assert.InRange(received, 1, 6);
        Assert.Equal(30 - received, limited);
        Assert.True(a.IsConnected, "refusing typing events must not close the sender");
    }
}
