using System.Text;
using Wren.Client;

namespace Wren.Broker.Tests;

/// <summary>Client SDK behaviour that tools and apps rely on.</summary>
public class ClientTests
{
    [Fact]
    public async Task Without_auto_reconnect_a_lost_connection_ends_the_event_stream_with_a_connection_failure()
    {
        await using var broker = await TestBroker.StartAsync();
        var alice = await broker.CreateUserAsync("alice");
        await using var a = await broker.ConnectAsync(alice.Token, o => o.AutoReconnect = false);
        var changes = new List<bool>();
        a.ConnectionChanged += (_, connected) => { lock (changes) { changes.Add(connected); } };

        a.SimulateDisconnect();
        var ended = await Assert.ThrowsAsync<WrenClientException>(async () =>
        {
            using var cts = new CancellationTokenSource(Await.Timeout);
            await foreach (var _ in a.Events.ReadAllAsync(cts.Token))
            {
            }
        });
        Assert.True(ended.IsConnectionFailure);
        await Await.UntilAsync(() => { lock (changes) { return changes.Contains(false); } }, "a disconnected notification");
        var request = await Assert.ThrowsAsync<WrenClientException>(() => a.PingAsync());
        Assert.True(request.IsConnectionFailure);
    }

    [Fact]
    public async Task With_sync_on_connect_off_a_one_shot_client_receives_no_backlog()
    {
        await using var broker = await TestBroker.StartAsync();
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");
        await using (var a = await broker.ConnectAsync(alice.Token))
        {
            var direct = await a.OpenDirectAsync(bob.User.UserId);
            await a.SendAsync(direct.ConversationId, Encoding.UTF8.GetBytes("backlog"));
        }

        await using var oneShot = await broker.ConnectAsync(bob.Token, o => o.SyncOnConnect = false);
        await oneShot.PingAsync();
        Assert.False(oneShot.Events.TryRead(out _), "a client that does not sync must not receive the backlog");

        await using var full = await broker.ConnectAsync(bob.Token);
        Assert.Single(await Await.DeliveriesAsync(full, 1));
    }

    [Fact]
    public async Task Sends_past_MaxPendingSends_wait_for_a_slot_instead_of_growing_a_backlog()
    {
        var broker = await TestBroker.StartAsync();
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");
        await using var a = await broker.ConnectAsync(alice.Token, o => o.MaxPendingSends = 2);
        var direct = await a.OpenDirectAsync(bob.User.UserId);
        await broker.DisposeAsync();
        await Await.UntilAsync(() => !a.IsConnected, "the client to notice the broker is gone");

        var first = a.SendAsync(direct.ConversationId, Encoding.UTF8.GetBytes("1"));
        var second = a.SendAsync(direct.ConversationId, Encoding.UTF8.GetBytes("2"));
        using var cancel = new CancellationTokenSource();
        var third = a.SendAsync(direct.ConversationId, Encoding.UTF8.GetBytes("3"), cancellationToken: cancel.Token);
        await Await.UntilAsync(() => a.PendingSends == 2, "two pending sends");
        Assert.False(third.IsCompleted);
        Assert.Equal(2, a.PendingSends);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => third);
        Assert.Equal(2, a.PendingSends);
        Assert.False(first.IsCompleted || second.IsCompleted);
    }
}
