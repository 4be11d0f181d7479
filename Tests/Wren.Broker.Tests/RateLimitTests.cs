using Wren.Protocol;
using Wren.Protocol.Messages;

namespace Wren.Broker.Tests;

/// <summary>
/// Rate limits of docs/security.md: crossing each one is answered RateLimited with a retry-after, never a crash or a
/// silent drop, and each test also shows the same traffic passing without that limit.
/// </summary>
public sealed class RateLimitTests
{
    /// <summary>Pipelines <paramref name="count"/> sends on one connection and returns the answers.</summary>
    private static async Task<List<ReceivedFrame>> SendBurstAsync(RawConnection connection, ulong conversation, int count, string prefix)
    {
        var ids = new HashSet<uint>();
        for (int i = 0; i < count; i++)
        {
            uint id = connection.NextRequestId();
            ids.Add(id);
            await connection.SendAsync(id, new Send { ConversationId = conversation, ClientMsgId = $"{prefix}-{i}", Body = [1] });
        }

        var answers = new List<ReceivedFrame>();
        while (answers.Count < count)
        {
            var frame = await connection.ReadAnswerAsync();
            if (ids.Contains(frame.Header.RequestId))
            {
                answers.Add(frame);
            }
        }

        return answers;
    }

    private static async Task<(int Acked, List<Error> Limited)> UserBurstAsync(int perUser)
    {
        await using var broker = await TestBroker.StartAsync(o =>
        {
            o.Limits.SendsPerSecond = 1000;
            o.Limits.SendsPerUserPerSecond = perUser;
        });
        var phone = await broker.CreateUserAsync("alice", "phone");
        var laptop = await broker.AddDeviceAsync("alice", "laptop");
        var bob = await broker.CreateUserAsync("bob");
        await using var a1 = await RawConnection.ConnectAuthenticatedAsync(broker, phone.Token);
        await using var a2 = await RawConnection.ConnectAuthenticatedAsync(broker, laptop.Token);
        var direct = (ConversationInfo)(await a1.AskAsync(new OpenDirect { PeerUserId = bob.User.UserId })).Message!;

        var answers = (await Task.WhenAll(
            SendBurstAsync(a1, direct.ConversationId, 20, "p"),
            SendBurstAsync(a2, direct.ConversationId, 20, "l"))).SelectMany(x => x).ToList();
        await a1.PingAsync();
        return (answers.Count(f => f.Message is SendAck), answers.Select(f => f.Message).OfType<Error>().ToList());
    }

    [Fact]
    public async Task Sends_per_user_are_limited_across_all_of_the_users_devices()
    {
        var limited = await UserBurstAsync(perUser: 5);
        var unlimited = await UserBurstAsync(perUser: 0);

        // Burst 10 plus what refills meanwhile: far below the 40 sent, though each device stays under its own limit.
        Assert.InRange(limited.Acked, 10, 30);
        Assert.All(limited.Limited, e => Assert.True(e.Code == ErrorCode.RateLimited && e.RetryAfterMs > 0, $"{e.Code} retry {e.RetryAfterMs}"));
        Assert.Equal(40, limited.Acked + limited.Limited.Count);
        Assert.Equal(40, unlimited.Acked);
    }

    [Fact]
    public async Task Conversation_creation_is_limited_per_user()
    {
        await using var broker = await TestBroker.StartAsync(o => o.Limits.ConversationCreationsPerMinute = 3);
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");
        await using var a = await RawConnection.ConnectAuthenticatedAsync(broker, alice.Token);
        await using var b = await RawConnection.ConnectAuthenticatedAsync(broker, bob.Token);

        for (int i = 0; i < 2; i++)
        {
            Assert.IsType<ConversationInfo>((await a.AskAsync(new CreateGroup { Title = $"g{i}" })).Message);
        }

        Assert.IsType<ConversationInfo>((await a.AskAsync(new OpenDirect { PeerUserId = bob.User.UserId })).Message);
        var over = await a.AskAsync(new CreateGroup { Title = "one too many" });
        var overDirect = await a.AskAsync(new OpenDirect { PeerUserId = bob.User.UserId });
        var otherUser = await b.AskAsync(new CreateGroup { Title = "bob's" });

        Assert.True(over.Message is Error { Code: ErrorCode.RateLimited, RetryAfterMs: > 0 }, $"got {over}");
        Assert.True(overDirect.Message is Error { Code: ErrorCode.RateLimited }, $"got {overDirect}");
        Assert.IsType<ConversationInfo>(otherUser.Message);
        await a.PingAsync();
    }

    [Fact]
    public async Task Typing_over_the_rate_is_answered_RateLimited_with_or_without_a_request_id()
    {
        await using var broker = await TestBroker.StartAsync(o => o.Limits.TypingPerSecond = 2);
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");
        await using var a = await RawConnection.ConnectAuthenticatedAsync(broker, alice.Token);
        var direct = (ConversationInfo)(await a.AskAsync(new OpenDirect { PeerUserId = bob.User.UserId })).Message!;

        var answers = new List<ReceivedFrame>();
        for (int i = 0; i < 3; i++)
        {
            answers.Add(await a.AskAsync(new Typing { ConversationId = direct.ConversationId, Active = true }));
        }

        await a.SendAsync(0, new Typing { ConversationId = direct.ConversationId, Active = false });
        var push = await a.ReadAnswerAsync();

        Assert.Equal(MessageType.Ok, answers[0].Header.MessageType);
        Assert.Equal(MessageType.Ok, answers[1].Header.MessageType);
        Assert.True(answers[2].Message is Error { Code: ErrorCode.RateLimited, RetryAfterMs: > 0 }, $"got {answers[2]}");
        Assert.True(push.Message is Error { Code: ErrorCode.RateLimited } && push.Header.RequestId == 0, $"got {push}");
        await a.PingAsync();
    }

    [Fact]
    public async Task New_connections_per_address_over_the_rate_get_RateLimited_and_are_closed()
    {
        await using var broker = await TestBroker.StartAsync(o =>
        {
            o.Limits.ConnectionsPerAddressPerSecond = 2;
            o.Limits.LimitLoopbackConnectionRate = true;
        });

        var connections = new List<RawConnection>();
        try
        {
            // Burst 4 at 2 per second: of 8 connections opened back to back, the last ones are over the rate.
            for (int i = 0; i < 8; i++)
            {
                connections.Add(await RawConnection.ConnectAsync(broker));
            }

            var refused = new List<Error>();
            var accepted = new List<RawConnection>();
            foreach (var connection in connections)
            {
                try
                {
                    await connection.SendAsync(connection.NextRequestId(), new Hello { MinVersion = 1, MaxVersion = 1, ClientName = "raw", ClientVersion = "1" });
                }
                catch (IOException)
                {
                    // A refused connection may already be closed; its Error frame is still read below.
                }

                var first = await connection.ReadFrameAsync();
                if (first.Message is Error error)
                {
                    refused.Add(error);
                    await connection.ExpectClosedAsync();
                }
                else
                {
                    Assert.IsType<Welcome>(first.Message);
                    accepted.Add(connection);
                }
            }

            Assert.InRange(refused.Count, 2, 4);
            Assert.All(refused, e => Assert.True(e.Code == ErrorCode.RateLimited && e.RetryAfterMs > 0, $"{e.Code} retry {e.RetryAfterMs}"));
            Assert.InRange(accepted.Count, 4, 6);
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Loopback_connections_are_not_rate_limited_unless_configured()
    {
        await using var broker = await TestBroker.StartAsync(o => o.Limits.ConnectionsPerAddressPerSecond = 2);
        var connections = new List<RawConnection>();
        try
        {
            for (int i = 0; i < 8; i++)
            {
                connections.Add(await RawConnection.ConnectAsync(broker));
            }

            foreach (var connection in connections)
            {
                await connection.HelloAsync();
            }
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }
}
