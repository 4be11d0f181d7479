using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Wren.Broker.Tests;

/// <summary>
/// At-rest key rotation through the administrator request: new entries use the new key, older ones stay readable with
/// theirs across a restart, the key ring file is private, and no sealed body reaches the disk in plaintext.
/// </summary>
public class KeyRotationTests
{
    private static async Task<string> AdminTokenAsync(string dataDirectory) =>
        (await File.ReadAllTextAsync(Path.Combine(dataDirectory, WrenServer.AdminTokenFile))).Trim();

    [Fact]
    public async Task Rotation_seals_new_entries_with_the_new_key_and_every_entry_stays_readable_after_a_restart()
    {
        string directory = Path.Combine(Path.GetTempPath(), "wren-keys-" + Guid.NewGuid().ToString("N"));
        string plainCanary = "canary-plain-" + Canary();
        string key1Canary = "canary-key1-" + Canary();
        string key2Canary = "canary-key2-" + Canary();
        string afterRestartCanary = "canary-restart-" + Canary();
        string ringPath = Path.Combine(directory, KeyRing.FileName);
        try
        {
            ulong conversation;
            string aliceToken;
            await using (var broker = await TestBroker.StartAsync(o => o.DataDirectory = directory))
            {
                await using var admin = await broker.ConnectAsync(await AdminTokenAsync(directory));
                Assert.Equal(0u, (await admin.AdminKeyStatusAsync()).ActiveKeyId);
                Assert.False(File.Exists(ringPath));

                aliceToken = (await broker.CreateUserAsync("alice")).Token;
                var bob = await broker.CreateUserAsync("bob");
                await using var a = await broker.ConnectAsync(aliceToken);
                conversation = (await a.OpenDirectAsync((await a.ResolveUsersAsync([], ["bob"])).Items[0].UserId)).ConversationId;

                // Seq 1 before any key (plaintext), seq 2 with key 1, seq 3 with key 2.
                await a.SendAsync(conversation, Encoding.UTF8.GetBytes(plainCanary));
                var first = await admin.AdminRotateKeyAsync();
                Assert.Equal(1u, first.ActiveKeyId);
                Assert.Equal([1u], first.KeyIds);
                await a.SendAsync(conversation, Encoding.UTF8.GetBytes(key1Canary));
                var second = await admin.AdminRotateKeyAsync();
                Assert.Equal(2u, second.ActiveKeyId);
                Assert.Equal([1u, 2u], second.KeyIds);
                await a.SendAsync(conversation, Encoding.UTF8.GetBytes(key2Canary));

                Assert.Null(broker.Server.Store.GetEntryKeyId(conversation, 1));
                Assert.Equal((byte)1, broker.Server.Store.GetEntryKeyId(conversation, 2));
                Assert.Equal((byte)2, broker.Server.Store.GetEntryKeyId(conversation, 3));

                // The key ring: readable by the broker's user only, both keys, key 2 active.
                if (!OperatingSystem.IsWindows())
                {
                    Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(ringPath));
                }

                using var ring = JsonDocument.Parse(await File.ReadAllBytesAsync(ringPath));
                Assert.Equal(2, ring.RootElement.GetProperty("active").GetInt32());
                Assert.Equal(["1", "2"], ring.RootElement.GetProperty("keys").EnumerateObject().Select(p => p.Name));
                Assert.False(File.Exists(ringPath + ".tmp"));
            }

            // Restart on the same directory: the ring is loaded, every entry opens, new entries use key 2.
            await using (var broker = await TestBroker.StartAsync(o => o.DataDirectory = directory))
            {
                await using var admin = await broker.ConnectAsync(await AdminTokenAsync(directory));
                var status = await admin.AdminKeyStatusAsync();
                Assert.Equal(2u, status.ActiveKeyId);
                Assert.Equal([1u, 2u], status.KeyIds);

                await using var a = await broker.ConnectAsync(aliceToken);
                await a.SendAsync(conversation, Encoding.UTF8.GetBytes(afterRestartCanary));
                Assert.Equal((byte)2, broker.Server.Store.GetEntryKeyId(conversation, 4));

                var log = await admin.AdminInspectLogAsync(conversation);
                Assert.Equal([plainCanary, key1Canary, key2Canary, afterRestartCanary], log.Entries.Select(e => Encoding.UTF8.GetString(e.Body)));
            }

            // Canary scan of every file of the data directory (SSTs, WAL, manifests): sealed bodies never appear in
            // plaintext. The entry written before encryption was turned on is found, which shows the scan can see a
            // body on disk (its negative control).
            var found = ScanForCanaries(directory, [plainCanary, key1Canary, key2Canary, afterRestartCanary]);
            Assert.Equal([plainCanary], found);
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Encrypt_option_creates_a_private_key_ring_with_key_1()
    {
        await using var broker = await TestBroker.StartAsync(o => o.AtRest.Encrypt = true);
        string ringPath = Path.Combine(broker.Directory, KeyRing.FileName);
        Assert.True(File.Exists(ringPath));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(ringPath));
        }

        await using var admin = await broker.ConnectAsync(await AdminTokenAsync(broker.Directory));
        var status = await admin.AdminKeyStatusAsync();
        Assert.Equal(1u, status.ActiveKeyId);
        Assert.Equal([1u], status.KeyIds);

        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");
        await using var a = await broker.ConnectAsync(alice.Token);
        var direct = await a.OpenDirectAsync((await a.ResolveUsersAsync([], ["bob"])).Items[0].UserId);
        await a.SendAsync(direct.ConversationId, "sealed"u8.ToArray());
        Assert.Equal((byte)1, broker.Server.Store.GetEntryKeyId(direct.ConversationId, 1));
        _ = bob;
    }

    /// <summary>
    /// 32 random base64 characters. Not hex: table files compress their blocks (LZ4 by default), which replaces a run of
    /// four or more bytes seen earlier in the block with a back-reference. A hex canary can share such a run with the
    /// hex client message ids stored next to it and then no longer occur whole on disk. The plaintext control failed
    /// once in a full parallel run, most likely that way (the entry flushed from the write-ahead log into a table).
    /// </summary>
    private static string Canary() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));

    /// <summary>The canaries whose UTF-8 bytes occur in any file under <paramref name="directory"/>.</summary>
    private static List<string> ScanForCanaries(string directory, string[] canaries)
    {
        var found = new List<string>();
        var files = Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).ToList();
        Assert.NotEmpty(files);
        foreach (var canary in canaries)
        {
            var needle = Encoding.UTF8.GetBytes(canary);
            if (files.Any(f => File.ReadAllBytes(f).AsSpan().IndexOf(needle) >= 0))
            {
                found.Add(canary);
            }
        }

        return found;
    }
}
