using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Wren.Cli.Commands;
using Wren.Cli.Connection;
using Wren.Protocol.Messages;

namespace Wren.Cli.Demo;

/// <summary>What the demo did and what it proved.</summary>
internal sealed record DemoOutcome(string Alice, string Bob, IReadOnlyDictionary<string, ulong> Heads, DemoProofResult Proof, int DuplicateAcks);

/// <summary>
/// The demo scenario against a running broker: two new users with two and three devices exchange messages in a direct
/// conversation and a group while devices go offline and come back (and one drops its connection mid-burst), then
/// every device's history is compared with the broker's log.
/// </summary>
internal sealed class DemoRunner(ResolvedConnection admin, Action<string> step)
{
    private static readonly TimeSpan ConvergenceTimeout = TimeSpan.FromSeconds(30);

    public async Task<DemoOutcome> RunAsync(CancellationToken cancellationToken)
    {
        string suffix = Convert.ToHexString(RandomNumberGenerator.GetBytes(3)).ToLowerInvariant();
        string alice = "alice-" + suffix;
        string bob = "bob-" + suffix;
        var devices = new List<DemoDevice>();
        try
        {
            await using (var client = await CliConnect.ConnectAsync(admin, cancellationToken).ConfigureAwait(false))
            {
                await client.AdminCreateUserAsync(alice, "Alice (demo)", cancellationToken: cancellationToken).ConfigureAwait(false);
                await client.AdminCreateUserAsync(bob, "Bob (demo)", cancellationToken: cancellationToken).ConfigureAwait(false);
                foreach (var (user, device) in new[] { (alice, "phone"), (alice, "laptop"), (bob, "phone"), (bob, "laptop"), (bob, "tablet") })
                {
                    var issued = await client.AdminIssueTokenAsync(user, device, TimeSpan.FromDays(1), cancellationToken).ConfigureAwait(false);
                    devices.Add(new DemoDevice($"{user.Split('-')[0]}-{device}", issued.Token));
                }
            }

            step($"created users {alice} (phone, laptop) and {bob} (phone, laptop, tablet)");
            var (alicePhone, aliceLaptop, bobPhone, bobLaptop, bobTablet) = (devices[0], devices[1], devices[2], devices[3], devices[4]);
            foreach (var device in devices)
            {
                await device.ConnectAsync(admin, cancellationToken).ConfigureAwait(false);
            }

            step("all 5 devices online");
            var bobId = (await alicePhone.Client!.ResolveUsersAsync(names: [bob], cancellationToken: cancellationToken).ConfigureAwait(false)).Items.Single().UserId;
            var direct = (await alicePhone.Client.OpenDirectAsync(bobId, cancellationToken).ConfigureAwait(false)).ConversationId;
            var group = (await alicePhone.Client.CreateGroupAsync("demo-" + suffix, [bobId], cancellationToken).ConfigureAwait(false)).ConversationId;
            var labels = new Dictionary<ulong, string> { [direct] = "direct", [group] = "group" };
            step($"{alice} opened a direct conversation ({direct}) and a group ({group}) with {bob}");

            int duplicates = 0;
            async Task BurstAsync(DemoDevice from, ulong conversation, int count, string text)
            {
                for (int i = 1; i <= count; i++)
                {
                    var ack = await from.Client!.SendAsync(conversation, Encoding.UTF8.GetBytes($"{text} {i}"), cancellationToken: cancellationToken).ConfigureAwait(false);
                    duplicates += ack.Duplicate ? 1 : 0;
                }
            }

            await Task.WhenAll(
                BurstAsync(alicePhone, direct, 5, "alice-phone says hi"),
                BurstAsync(bobLaptop, group, 5, "bob-laptop posts")).ConfigureAwait(false);
            step("round 1, everyone online: alice-phone sent 5 direct messages, bob-laptop 5 to the group");

            await bobPhone.GoOfflineAsync().ConfigureAwait(false);
            await aliceLaptop.GoOfflineAsync().ConfigureAwait(false);
            step("bob-phone and alice-laptop went offline");

            await Task.WhenAll(
                BurstAsync(alicePhone, direct, 10, "alice-phone, while bob-phone is away"),
                BurstAsync(bobTablet, group, 10, "bob-tablet posts"),
                BurstAsync(bobLaptop, direct, 5, "bob-laptop replies")).ConfigureAwait(false);
            step("round 2: 25 more messages from alice-phone, bob-tablet and bob-laptop");

            await bobPhone.ConnectAsync(admin, cancellationToken).ConfigureAwait(false);
            await bobTablet.GoOfflineAsync().ConfigureAwait(false);
            step("bob-phone came back (catching up from its cursors); bob-tablet went offline");

            // Half of a burst is in flight when alice-phone's connection drops: the SDK reconnects and resends what was
            // not acknowledged with the same client message ids, so each message is stored once.
            var sends = new List<Task<SendAck>>();
            for (int i = 1; i <= 10; i++)
            {
                if (i == 6)
                {
                    alicePhone.Client!.SimulateDisconnect();
                }

                sends.Add(alicePhone.Client!.SendAsync(group, Encoding.UTF8.GetBytes($"alice-phone through a dropped connection {i}"), cancellationToken: cancellationToken));
            }

            int resent = (await Task.WhenAll(sends).WaitAsync(ConvergenceTimeout, cancellationToken).ConfigureAwait(false)).Count(a => a.Duplicate);
            duplicates += resent;
            step($"round 3: alice-phone's connection dropped mid-burst of 10 group messages; after its reconnect all 10 were acknowledged ({resent} resends were recognised as already stored)");

            await aliceLaptop.ConnectAsync(admin, cancellationToken).ConfigureAwait(false);
            await bobTablet.ConnectAsync(admin, cancellationToken).ConfigureAwait(false);
            step("alice-laptop and bob-tablet came back");

            var heads = (await Conversations.ListAllAsync(alicePhone.Client!, cancellationToken).ConfigureAwait(false))
                .Where(c => labels.ContainsKey(c.ConversationId))
                .ToDictionary(c => c.ConversationId, c => c.Head);
            await WaitForConvergenceAsync(devices, heads, cancellationToken).ConfigureAwait(false);

            var log = new Dictionary<string, IReadOnlyList<Deliver>>();
            foreach (var (id, label) in labels)
            {
                log[label] = await RecentMessages.RecentAsync(alicePhone.Client!, id, (int)heads[id], cancellationToken).ConfigureAwait(false);
            }

            var histories = devices.ToDictionary(
                d => d.Name,
                d => (IReadOnlyDictionary<string, IReadOnlyList<Deliver>>)labels.ToDictionary(l => l.Value, l => d.Received(l.Key)));
            var proof = DemoProof.Check(log, histories);
            return new DemoOutcome(alice, bob, labels.ToDictionary(l => l.Value, l => heads[l.Key]), proof, duplicates);
        }
        finally
        {
            foreach (var device in devices)
            {
                await device.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task WaitForConvergenceAsync(List<DemoDevice> devices, Dictionary<ulong, ulong> heads, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + ConvergenceTimeout;
        while (!devices.All(d => heads.All(h => d.LastSeq(h.Key) >= h.Value)))
        {
            if (DateTime.UtcNow > deadline)
            {
                step(string.Create(CultureInfo.InvariantCulture, $"devices did not catch up within {ConvergenceTimeout.TotalSeconds:0} s; comparing what they hold"));
                return;
            }

            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }

        step("every device caught up with both conversations");
    }
}
