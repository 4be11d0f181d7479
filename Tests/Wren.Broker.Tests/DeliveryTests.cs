using System.Buffers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Wren.Protocol;
using Wren.Protocol.Messages;

namespace Wren.Broker.Tests;

public class DeliveryTests
{
    private static byte[] Text(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task Client_message_ids_the_SDK_makes_up_sort_in_send_order()
    {
        // Time-ordered ids (UUID version 7) keep the broker's dedup index inserts local (docs/benchmarks.md, W1); with
        // random ids, 8 sends a few milliseconds apart sort in send order once in 40,320.
        await using var broker = await TestBroker.StartAsync();
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");
        await using var a = await broker.ConnectAsync(alice.Token);
        var direct = await a.OpenDirectAsync(bob.User.UserId);
        for (int i = 0; i < 8; i++)
        {
            await a.SendAsync(direct.ConversationId, Text($"m{i}"));
            await Task.Delay(3);
        }

        var ids = (await a.HistoryAsync(direct.ConversationId)).Messages.Select(m => m.ClientMsgId).ToList();
        Assert.Equal(8, ids.Count);
        Assert.All(ids, id => Assert.Matches("^[0-9a-f]{12}7[0-9a-f]{19}$", id));
        Assert.Equal(ids.Order(StringComparer.Ordinal), ids);
    }

    [Fact]
    public async Task Sends_in_flight_when_the_connection_drops_are_stored_exactly_once_with_their_acked_seq()
    {
        await using var broker = await TestBroker.StartAsync();
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");
        await using var a = await broker.ConnectAsync(alice.Token);
        var direct = await a.OpenDirectAsync(bob.User.UserId);

        var sends = new List<Task<SendAck>>();
        for (int i = 0; i < 200; i++)
        {
            sends.Add(a.SendAsync(direct.ConversationId, Text($"m{i}"), $"retry-{i}"));
            if (i == 100)
            {
                a.SimulateDisconnect();
            }
        }

        var acks = await Task.WhenAll(sends);
        Assert.True(a.Reconnects >= 1);
        var history = new List<Deliver>();
        ulong before = 0;
        do
        {
            var page = await a.HistoryAsync(direct.ConversationId, before);
            history.InsertRange(0, page.Messages);
            before = page.Messages.Length > 0 && page.More ? page.Messages[0].Seq : 0;
        }
        while (before != 0);

        Assert.Equal(200, history.Count);
        Assert.Equal(200, history.Select(h => h.ClientMsgId).Distinct().Count());
        Assert.Equal(Enumerable.Range(1, 200).Select(i => (ulong)i), history.Select(h => h.Seq));
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal($"retry-{i}", history.Single(h => h.Seq == acks[i].Seq).ClientMsgId);
        }
    }

    [Fact]
    public async Task Slow_consumer_is_cut_off_without_hurting_others_and_later_catches_up_losslessly()
    {
        await using var broker = await TestBroker.StartAsync(o => o.Limits.MaxPendingOutboundBytes = 1024 * 1024);
        var sender = await broker.CreateUserAsync("sender");
        var reader = await broker.CreateUserAsync("reader");
        var slow = await broker.CreateUserAsync("slow");
        await using var s = await broker.ConnectAsync(sender.Token);
        await using var r = await broker.ConnectAsync(reader.Token);
        var group = await s.CreateGroupAsync("busy", [reader.User.UserId, slow.User.UserId]);

        // The slow device authenticates and syncs, then never reads again.
        using var stalled = await StalledDevice.ConnectAsync(broker, slow.Token);
        await Await.UntilAsync(() => broker.Server.Core.Registry.GetSessions(slow.User.UserId).Length == 1, "slow device registered");

        // Waves of 16 keep the burst per group commit (16 × 16 KiB) well under the limit for a device that does read;
        // the stalled one falls behind by the whole 12.8 MB.
        const int count = 800;
        var body = new byte[16 * 1024];
        for (int wave = 0; wave < count / 16; wave++)
        {
            var sends = new List<Task<SendAck>>();
            for (int i = wave * 16; i < (wave + 1) * 16; i++)
            {
                RandomNumberGenerator.Fill(body);
                sends.Add(s.SendAsync(group.ConversationId, body.ToArray(), $"big-{i}"));
            }

            await Task.WhenAll(sends);
        }

        await Await.UntilAsync(() => broker.Server.Core.Registry.GetSessions(slow.User.UserId).IsEmpty, "slow device cut off");

        // One log line (event 2008) names the slow device's session and the limit; the reading devices got none.
        var cutOff = Assert.Single(broker.Logs.Entries, e => e.EventId.Id == 2008);
        Assert.Equal(LogLevel.Information, cutOff.Level);
        Assert.Contains("limit 1048576", cutOff.Message, StringComparison.Ordinal);

        var readerGot = await Await.DeliveriesAsync(r, count);
        Assert.Equal(0, r.Reconnects);
        Assert.Equal(Enumerable.Range(1, count).Select(i => (ulong)i), readerGot.Select(d => d.Seq));

        await using var caughtUp = await broker.ConnectAsync(slow.Token);
        var replay = await Await.DeliveriesAsync(caughtUp, count);
        Assert.Equal(readerGot.Select(d => Convert.ToHexString(d.Body)), replay.Select(d => Convert.ToHexString(d.Body)));
    }

    [Fact]
    public async Task Read_cursor_reaches_other_members_and_own_devices_and_sets_unread_counts()
    {
        await using var broker = await TestBroker.StartAsync();
        var alice1 = await broker.CreateUserAsync("alice", "phone");
        var alice2 = await broker.AddDeviceAsync("alice", "laptop");
        var bob = await broker.CreateUserAsync("bob");
        await using var a1 = await broker.ConnectAsync(alice1.Token);
        await using var a2 = await broker.ConnectAsync(alice2.Token);
        await using var b = await broker.ConnectAsync(bob.Token);
        var direct = await b.OpenDirectAsync(alice1.User.UserId);
        for (int i = 0; i < 5; i++)
        {
            await b.SendAsync(direct.ConversationId, Text($"m{i}"));
        }

        var list = await a1.ListConversationsAsync();
        var info = Assert.Single(list.Items);
        Assert.Equal(5ul, info.Head - info.ReadSeq);

        await a1.MarkReadAsync(direct.ConversationId, 3);
        var toBob = await Await.EventAsync<ReadReceipt>(b);
        var toLaptop = await Await.EventAsync<ReadReceipt>(a2);
        Assert.Equal((alice1.User.UserId, 3ul), (toBob.UserId, toBob.Seq));
        Assert.Equal((alice1.User.UserId, 3ul), (toLaptop.UserId, toLaptop.Seq));
        Assert.Equal(2ul, (await a2.ListConversationsAsync()).Items[0] is var c ? c.Head - c.ReadSeq : 0);

        // Cursors never move back.
        await a1.MarkReadAsync(direct.ConversationId, 1);
        Assert.Equal(3ul, (await a1.ListConversationsAsync()).Items[0].ReadSeq);
    }

    [Fact]
    public async Task Typing_and_presence_reach_members_only()
    {
        await using var broker = await TestBroker.StartAsync();
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");
        var stranger = await broker.CreateUserAsync("stranger");
        await using var a = await broker.ConnectAsync(alice.Token);
        await using var x = await broker.ConnectAsync(stranger.Token);
        var direct = await a.OpenDirectAsync(bob.User.UserId);

        await using (var b = await broker.ConnectAsync(bob.Token))
        {
            var online = await Await.EventAsync<Presence>(a, p => p.UserId == bob.User.UserId);
            Assert.Equal(PresenceStatus.Online, online.Status);

            await a.TypingAsync(direct.ConversationId, true);
            var typing = await Await.EventAsync<Typing>(b);
            Assert.Equal((direct.ConversationId, alice.User.UserId, true), (typing.ConversationId, typing.UserId, typing.Active));

            var seen = await a.QueryPresenceAsync([bob.User.UserId, stranger.User.UserId]);
            var item = Assert.Single(seen.Items);
            Assert.Equal(bob.User.UserId, item.UserId);
        }

        var offline = await Await.EventAsync<Presence>(a, p => p.UserId == bob.User.UserId);
        Assert.Equal(PresenceStatus.Offline, offline.Status);
        Assert.True(offline.LastSeenMs > 0);

        await x.PingAsync();
        while (x.Events.TryRead(out var leaked))
        {
            Assert.False(leaked is Presence or Typing, $"a stranger received {leaked.Type}");
        }
    }

    /// <summary>A device that completes the handshake and a sync, then stops reading its socket.</summary>
    private sealed class StalledDevice : IDisposable
    {
        private readonly TcpClient _tcp;
        private readonly SslStream _tls;

        private StalledDevice(TcpClient tcp, SslStream tls)
        {
            _tcp = tcp;
            _tls = tls;
        }

        public static async Task<StalledDevice> ConnectAsync(TestBroker broker, string token)
        {
            var tcp = new TcpClient { ReceiveBufferSize = 4096 };
            await tcp.ConnectAsync("127.0.0.1", broker.Port);
            string pinned = broker.Server.Fingerprint!.Replace(":", "", StringComparison.Ordinal);
            var tls = new SslStream(tcp.GetStream(), false, (_, certificate, _, _) =>
                certificate is not null && Convert.ToHexString(SHA256.HashData(certificate.GetRawCertData())) == pinned);
            await tls.AuthenticateAsClientAsync("localhost");
            await tls.WriteAsync(FrameWriter.ToArray(1, new Hello { ClientName = "stalled" }));
            await tls.WriteAsync(FrameWriter.ToArray(2, new Auth { Token = token }));
            await tls.WriteAsync(FrameWriter.ToArray(3, new SyncAll()));
            await tls.FlushAsync();
            var device = new StalledDevice(tcp, tls);
            await device.ReadUntilAsync(MessageType.SyncDone);
            return device;
        }

        private async Task ReadUntilAsync(MessageType type)
        {
            var buffer = new byte[64 * 1024];
            int filled = 0;
            using var cts = new CancellationTokenSource(Await.Timeout);
            while (true)
            {
                filled += await _tls.ReadAsync(buffer.AsMemory(filled), cts.Token);
                var sequence = new ReadOnlySequence<byte>(buffer, 0, filled);
                var reader = new SequenceReader<byte>(sequence);
                while (FrameReader.TryRead(ref reader, int.MaxValue, out var frame, out _) == FrameStatus.Complete)
                {
                    if (frame.Header.MessageType == type)
                    {
                        return;
                    }
                }

                int consumed = (int)reader.Consumed;
                buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
                filled -= consumed;
            }
        }

        public void Dispose()
        {
            _tls.Dispose();
            _tcp.Dispose();
        }
    }
}
