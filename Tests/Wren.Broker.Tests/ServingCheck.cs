using System.Text;

namespace Wren.Broker.Tests;

/// <summary>Checks that a broker still serves well-behaved clients after something hostile happened to it.</summary>
public static class ServingCheck
{
    /// <summary>Two fresh users connect with the SDK; one sends a direct message and the other receives it.</summary>
    public static async Task AssertStillServesAsync(TestBroker broker)
    {
        string suffix = Guid.NewGuid().ToString("N")[..12];
        var alice = await broker.CreateUserAsync("ok-a-" + suffix);
        var bob = await broker.CreateUserAsync("ok-b-" + suffix);
        await using var sender = await broker.ConnectAsync(alice.Token);
        await using var receiver = await broker.ConnectAsync(bob.Token);

        var direct = await sender.OpenDirectAsync(bob.User.UserId);
        var ack = await sender.SendAsync(direct.ConversationId, Encoding.UTF8.GetBytes("still serving " + suffix));
        var delivered = Assert.Single(await Await.DeliveriesAsync(receiver, 1));
        Assert.Equal(ack.Seq, delivered.Seq);
        Assert.Equal("still serving " + suffix, Encoding.UTF8.GetString(delivered.Body));
    }
}
