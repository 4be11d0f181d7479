using System.Text;
using Wren.Client;
using Wren.Protocol;

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
}
