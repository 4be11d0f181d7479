using System.Security.Cryptography;
using System.Text;
using static Wren.Storage.Tests.Requests;

namespace Wren.Storage.Tests;

public sealed class EncryptionTests
{
    private const string Canary = "CANARY-7f3a9e-secret-text";
    private static readonly byte[] Key1 = RandomNumberGenerator.GetBytes(32);
    private static readonly byte[] Key2 = RandomNumberGenerator.GetBytes(32);

    private static EncryptionOptions Keys(byte active, params (byte Id, byte[] Key)[] keys) =>
        new() { Keys = keys.ToDictionary(k => k.Id, k => k.Key), ActiveKeyId = active };

    /// <summary>Appends canary bodies, flushes them to SST files, closes the store and counts files holding the canary.</summary>
    private static async Task<int> FilesContainingCanaryAfterWritingAsync(EncryptionOptions? encryption)
    {
        var t = TestStore.Create(o => o.Encryption = encryption);
        try
        {
            var id = (await t.Store.CreateGroupAsync(1, "g", [])).ConversationId;
            var body = string.Concat(Enumerable.Repeat(Canary + " ", 8));
            await Task.WhenAll(Enumerable.Range(0, 200).Select(i => t.Store.AppendAsync(Text(id, 1, "m" + i, body)).AsTask()));
            Assert.Equal(body, t.Store.ReadRange(id, 200, 1)[0].BodyText());
            t.Store.FlushMemtables();
            await t.Store.DisposeAsync();

            var canary = Encoding.UTF8.GetBytes(Canary);
            var files = Directory.GetFiles(t.Directory, "*", SearchOption.AllDirectories);
            Assert.Contains(files, f => f.EndsWith(".sst", StringComparison.Ordinal));
            return files.Count(f => File.ReadAllBytes(f).AsSpan().IndexOf(canary) >= 0);
        }
        finally
        {
            await t.DisposeAsync();
        }
    }

    [Fact]
    public async Task With_encryption_no_file_in_the_data_directory_contains_the_plaintext()
    {
        Assert.Equal(0, await FilesContainingCanaryAfterWritingAsync(Keys(1, (1, Key1))));
    }

    [Fact]
    public async Task Without_encryption_the_same_scan_finds_the_plaintext()
    {
        Assert.True(await FilesContainingCanaryAfterWritingAsync(null) > 0);
    }

    [Fact]
    public async Task A_record_copied_to_another_conversation_or_seq_fails_to_decrypt()
    {
        await using var t = TestStore.Create(o => o.Encryption = Keys(1, (1, Key1)));
        var a = (await t.Store.CreateGroupAsync(1, "a", [])).ConversationId;
        var b = (await t.Store.CreateGroupAsync(1, "b", [])).ConversationId;
        await t.Store.AppendAsync(Text(a, 1, "a1", "secret of a"));
        await t.Store.AppendAsync(Text(a, 1, "a2", "second of a"));
        await t.Store.AppendAsync(Text(b, 1, "b1", "secret of b"));
        var raw = t.Store.GetRawMessage(a, 1)!;

        await t.Store.PutRawMessageAsync(b, 1, raw);
        await t.Store.PutRawMessageAsync(a, 2, raw);

        Assert.Throws<StorageCorruptException>(() => t.Store.ReadRange(b, 1, 1));
        Assert.Throws<StorageCorruptException>(() => t.Store.ReadRange(a, 1, 2));
        Assert.Equal("secret of a", t.Store.ReadRange(a, 1, 1)[0].BodyText());
    }

    [Fact]
    public async Task A_tampered_envelope_fails_to_decrypt()
    {
        await using var t = TestStore.Create(o => o.Encryption = Keys(1, (1, Key1)));
        var id = (await t.Store.CreateGroupAsync(1, "g", [])).ConversationId;
        await t.Store.AppendAsync(Text(id, 1, "m", "secret"));
        var raw = t.Store.GetRawMessage(id, 1)!;
        raw[5 + 7] ^= 1; // last byte of the sender id

        await t.Store.PutRawMessageAsync(id, 1, raw);

        Assert.Throws<StorageCorruptException>(() => t.Store.ReadRange(id, 1, 1));
    }

    [Fact]
    public async Task Rotated_keys_keep_old_records_readable()
    {
        await using var t = TestStore.Create(o => o.Encryption = Keys(1, (1, Key1)));
        var id = (await t.Store.CreateGroupAsync(1, "g", [])).ConversationId;
        await t.Store.AppendAsync(Text(id, 1, "m1", "under key one"));

        await t.ReopenAsync(o => o.Encryption = Keys(2, (1, Key1), (2, Key2)));
        await t.Store.AppendAsync(Text(id, 1, "m2", "under key two"));

        Assert.Equal(["under key one", "under key two"], t.Store.ReadRange(id, 1, 10).Select(e => e.BodyText()));
        Assert.Equal(1, KeyIdOf(t.Store.GetRawMessage(id, 1)!));
        Assert.Equal(2, KeyIdOf(t.Store.GetRawMessage(id, 2)!));
        Assert.Equal(AppendStatus.Duplicate, (await t.Store.AppendAsync(Text(id, 1, "m1", "under key one"))).Status);

        await t.ReopenAsync(o => o.Encryption = Keys(2, (2, Key2)));
        Assert.Equal("under key two", t.Store.ReadRange(id, 2, 1)[0].BodyText());
        var missingKey = Assert.Throws<StorageException>(() => t.Store.ReadRange(id, 1, 1));
        Assert.Contains("key id 1", missingKey.Message, StringComparison.Ordinal);

        await t.ReopenAsync(o => o.Encryption = null);
        Assert.Throws<StorageException>(() => t.Store.ReadRange(id, 2, 1));
    }

    private static int KeyIdOf(byte[] raw) => raw[29 + ((raw[27] << 8) | raw[28])];

    [Fact]
    public void Invalid_keys_are_rejected_at_open()
    {
        var directory = TestStore.NewDirectory();
        Assert.Throws<ArgumentException>(() => WrenStore.Open(new StoreOptions { DataDirectory = directory, Encryption = Keys(1, (1, new byte[16])) }));
        Assert.Throws<ArgumentException>(() => WrenStore.Open(new StoreOptions { DataDirectory = directory, Encryption = Keys(3, (1, Key1)) }));
        Assert.False(Directory.Exists(directory));
    }
}
