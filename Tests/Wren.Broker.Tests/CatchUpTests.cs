using System.Text;
using Wren.Broker.Core;
using Wren.Client;
using Wren.Protocol.Messages;

namespace Wren.Broker.Tests;

/// <summary>
/// Catching up on connect: a device that missed messages in several conversations gets each of them once, in seq order
/// per conversation, whether <see cref="WrenClient.ConnectAsync"/> waits for the catch-up or returns before it.
/// </summary>
public class CatchUpTests
{
    private const int Conversations = 3;
    private const int PerConversation = 120;

    [Fact]
    public async Task By_default_ConnectAsync_returns_with_the_whole_backlog_already_in_Events()
    {
        await using var broker = await StartAsync();
        var (reader, sent) = await FillAsync(broker);

        await using var device = await broker.ConnectAsync(reader.Token);
        var backlog = new List<Deliver>();
        while (device.Events.TryRead(out var message))
        {
            if (message is Deliver deliver)
            {
                backlog.Add(deliver);
            }
        }

        AssertEachOnceInOrder(sent, backlog);
    }

    [Fact]
    public async Task Reading_while_the_catch_up_runs_gets_every_missed_message_once_in_order()
    {
        await using var broker = await StartAsync();
        var (reader, sent) = await FillAsync(broker);

        await using var device = await broker.ConnectAsync(reader.Token, o => o.WaitForCatchUp = false);
        var received = await Await.DeliveriesAsync(device, Conversations * PerConversation);
        AssertEachOnceInOrder(sent, received);

        // Nothing more is on its way: a complete sync brings no further delivery.
        await device.SyncAllAsync();
        while (device.Events.TryRead(out var extra))
        {
            Assert.IsNotType<Deliver>(extra);
        }
    }

    [Fact]
    public async Task A_connection_lost_during_a_background_catch_up_resumes_without_loss_or_repeat()
    {
        await using var broker = await StartAsync();
        var (reader, sent) = await FillAsync(broker);

        await using var device = await broker.ConnectAsync(reader.Token, o => o.WaitForCatchUp = false);
        var received = await Await.DeliveriesAsync(device, 40);
        device.SimulateDisconnect();
        received.AddRange(await Await.DeliveriesAsync(device, Conversations * PerConversation - received.Count));
        AssertEachOnceInOrder(sent, received);
        await Await.UntilAsync(() => device.Reconnects >= 1 && device.IsConnected, "the reconnect");
        await device.SyncAllAsync();
        while (device.Events.TryRead(out var extra))
        {
            Assert.IsNotType<Deliver>(extra);
        }
    }

    /// <summary>
    /// The client records positions per read instead of per message; an application that reads a message must still
    /// find its position in the cursor store already, as when it was written per message.
    /// </summary>
    [Fact]
    public async Task A_delivery_is_in_the_cursor_store_before_the_application_can_read_it()
    {
        await using var broker = await StartAsync();
        var (reader, sent) = await FillAsync(broker);
        var cursors = new InMemoryClientCursorStore();

        await using var device = await broker.ConnectAsync(reader.Token, o =>
        {
            o.WaitForCatchUp = false;
            o.CursorStore = cursors;
        });
        var received = new List<Deliver>();
        using var timeout = new CancellationTokenSource(Await.Timeout);
        while (received.Count < Conversations * PerConversation)
        {
            if (await device.Events.ReadAsync(timeout.Token) is Deliver deliver)
            {
                Assert.True(cursors.TryGet(deliver.ConversationId, out var cursor), $"no position for conversation {deliver.ConversationId}");
                Assert.True(cursor.Seq >= deliver.Seq, $"position {cursor.Seq} is behind the delivered seq {deliver.Seq}");
                received.Add(deliver);
            }
        }

        AssertEachOnceInOrder(sent, received);
    }

    /// <summary>
    /// Regression: pins that acks waiting for the SDK's ack interval are written when the client is disposed. A device
    /// that read a burst and closed at once used to leave the server's delivered cursor behind the last read message.
    /// </summary>
    [Fact]
    public async Task Disposing_right_after_reading_a_burst_leaves_the_server_cursor_at_the_last_message()
    {
        await using var broker = await StartAsync();
        var reader = await broker.CreateUserAsync("reader");
        var sender = await broker.CreateUserAsync("sender");
        await using var source = await broker.ConnectAsync(sender.Token, o => o.SyncOnConnect = false);
        ulong conversation = (await source.OpenDirectAsync(reader.User.UserId)).ConversationId;

        await using var device = await broker.ConnectAsync(reader.Token);
        // Small groups of durable sends, one group after the other: a stream of deliveries about a millisecond apart, so
        // the reader's SDK is holding positions for its next ack interval when the last one arrives.
        for (int k = 1; k <= PerConversation; k += 4)
        {
            await Task.WhenAll(Enumerable.Range(k, 4).Select(i => source.SendAsync(conversation, Encoding.UTF8.GetBytes($"m{i}"))));
        }

        var received = await Await.DeliveriesAsync(device, PerConversation);
        Assert.Equal((ulong)PerConversation, received[^1].Seq);
        await device.DisposeAsync();

        var store = broker.Server.Store;
        await Await.UntilAsync(
            () => store.GetDelivered(reader.User.UserId, reader.Device.DeviceId, conversation) == PerConversation,
            $"the server's delivered cursor at seq {PerConversation}");
    }

    /// <summary>
    /// A device that stays connected acks what it read after the SDK's ack delay, without being disposed: the server's
    /// delivered cursor reaches the last message while the connection stays open. With auto-ack off (the control) it
    /// stays at zero, so the check can tell.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_connected_device_acks_what_it_read_after_the_ack_delay(bool autoAck)
    {
        await using var broker = await StartAsync();
        var reader = await broker.CreateUserAsync("reader");
        var sender = await broker.CreateUserAsync("sender");
        await using var source = await broker.ConnectAsync(sender.Token, o => o.SyncOnConnect = false);
        ulong conversation = (await source.OpenDirectAsync(reader.User.UserId)).ConversationId;
        await using var device = await broker.ConnectAsync(reader.Token, o =>
        {
            o.AutoAck = autoAck;
            o.AckDelay = TimeSpan.FromMilliseconds(200);
        });

        for (int i = 1; i <= 20; i++)
        {
            await source.SendAsync(conversation, Encoding.UTF8.GetBytes($"m{i}"));
        }

        Assert.Equal(20UL, (await Await.DeliveriesAsync(device, 20))[^1].Seq);
        var store = broker.Server.Store;
        if (autoAck)
        {
            await Await.UntilAsync(
                () => store.GetDelivered(reader.User.UserId, reader.Device.DeviceId, conversation) == 20,
                "the server's delivered cursor at seq 20 while the device stays connected");
        }
        else
        {
            // Several ack delays: an ack written by mistake would have arrived by now.
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.Equal(0UL, store.GetDelivered(reader.User.UserId, reader.Device.DeviceId, conversation));
        }
    }

    /// <summary>An ack delay that is negative or over a minute is refused before anything connects.</summary>
    [Theory]
    [InlineData(-1)]
    [InlineData(60_001)]
    public async Task An_ack_delay_out_of_range_is_refused(int milliseconds)
    {
        var options = new WrenClientOptions { Port = 1, AckDelay = TimeSpan.FromMilliseconds(milliseconds) };

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => WrenClient.ConnectAsync(options));
    }

    /// <summary>A broker whose sync batches are small, so one catch-up takes several SyncAll rounds.</summary>
    private static Task<TestBroker> StartAsync() => TestBroker.StartAsync(o =>
    {
        o.Limits.MaxSyncBatch = 50;
        o.Limits.SendsPerSecond = 10_000;
        o.Limits.SendsPerUserPerSecond = 0;
    });

    /// <summary>Each of several senders sends <see cref="PerConversation"/> messages to the reader, who is offline.</summary>
    private static async Task<(IssuedToken Reader, Dictionary<ulong, HashSet<string>> Sent)> FillAsync(TestBroker broker)
    {
        var reader = await broker.CreateUserAsync("reader");
        var sent = new Dictionary<ulong, HashSet<string>>();
        for (int c = 0; c < Conversations; c++)
        {
            var sender = await broker.CreateUserAsync("sender" + c);
            await using var client = await broker.ConnectAsync(sender.Token, o => o.SyncOnConnect = false);
            ulong conversation = (await client.OpenDirectAsync(reader.User.UserId)).ConversationId;
            var bodies = Enumerable.Range(1, PerConversation).Select(k => $"c{c}-m{k}").ToList();
            await Task.WhenAll(bodies.Select(b => client.SendAsync(conversation, Encoding.UTF8.GetBytes(b))));
            sent[conversation] = [.. bodies];
        }

        return (reader, sent);
    }

    /// <summary>Per conversation: seqs 1..n in order, each once, with exactly the bodies that were sent.</summary>
    private static void AssertEachOnceInOrder(Dictionary<ulong, HashSet<string>> sent, List<Deliver> received)
    {
        Assert.Equal(sent.Values.Sum(b => b.Count), received.Count);
        foreach (var (conversation, bodies) in sent)
        {
            var mine = received.Where(d => d.ConversationId == conversation).ToList();
            Assert.Equal(Enumerable.Range(1, bodies.Count).Select(i => (ulong)i), mine.Select(d => d.Seq));
            Assert.True(bodies.SetEquals(mine.Select(d => Encoding.UTF8.GetString(d.Body))), $"bodies of conversation {conversation}");
        }
    }
}
