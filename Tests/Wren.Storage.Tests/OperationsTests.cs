using static Wren.Storage.Tests.Requests;

namespace Wren.Storage.Tests;

public sealed class OperationsTests
{
    [Fact]
    public async Task Opening_a_directory_in_use_fails_with_an_actionable_StorageException()
    {
        await using var t = TestStore.Create();
        var error = Assert.Throws<StorageException>(() => WrenStore.Open(new StoreOptions { DataDirectory = t.Directory }));
        Assert.Contains("in use", error.Message, StringComparison.Ordinal);
        Assert.Contains(Path.GetFullPath(t.Directory), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Opening_database_files_without_CURRENT_fails_as_damaged()
    {
        var directory = TestStore.NewDirectory();
        try
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(Path.Combine(directory, "MANIFEST-000001"), "garbage");
            var error = Assert.Throws<StorageException>(() => WrenStore.Open(new StoreOptions { DataDirectory = directory }));
            Assert.Contains("damaged", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            TestStore.DeleteDirectory(directory);
        }
    }

    [Fact]
    public async Task Opening_a_directory_with_a_broken_manifest_fails_as_damaged()
    {
        var t = TestStore.Create();
        var id = (await t.Store.CreateGroupAsync(1, "g", [])).ConversationId;
        await t.Store.AppendAsync(Text(id, 1, "m", "x"));
        await t.Store.DisposeAsync();
        try
        {
            File.WriteAllText(Path.Combine(t.Directory, "CURRENT"), "MANIFEST-999999\n");
            var error = Assert.Throws<StorageException>(() => WrenStore.Open(new StoreOptions { DataDirectory = t.Directory }));
            Assert.Contains("damaged", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            TestStore.DeleteDirectory(t.Directory);
        }
    }

    [Fact]
    public async Task Checkpoint_opens_as_a_store_with_the_same_data()
    {
        await using var t = TestStore.Create();
        var user = (await t.Store.CreateUserAsync("alice", "Alice"))!;
        var id = (await t.Store.CreateGroupAsync(user.UserId, "g", [2])).ConversationId;
        for (var i = 0; i < 50; i++)
        {
            await t.Store.AppendAsync(Text(id, 1, "m" + i, "body " + i));
        }

        t.Store.AdvanceDelivered(2, 1, id, 40);
        var target = TestStore.NewDirectory();
        try
        {
            await t.Store.CheckpointAsync(target);
            await t.Store.AppendAsync(Text(id, 1, "after", "not in the checkpoint"));

            await using var copy = WrenStore.Open(new StoreOptions { DataDirectory = target });
            Assert.Equal(new LogHead(1, 50), copy.GetHead(id));
            Assert.Equal(t.Store.ReadRange(id, 1, 50).Select(e => e.BodyText()), copy.ReadRange(id, 1, 50).Select(e => e.BodyText()));
            Assert.Equal(40UL, copy.GetDelivered(2, 1, id));
            Assert.Equal(user, copy.FindUser("alice"));
            Assert.Equal([1UL, 2], copy.GetMemberIds(id));
            await Assert.ThrowsAsync<StorageException>(() => t.Store.CheckpointAsync(target));
        }
        finally
        {
            TestStore.DeleteDirectory(target);
        }
    }

    [Fact]
    public async Task GetStatistics_counts_conversations_messages_users_batches_and_disk()
    {
        await using var t = TestStore.Create();
        await t.Store.CreateUserAsync("alice", "Alice");
        var a = (await t.Store.CreateGroupAsync(1, "a", [])).ConversationId;
        var b = (await t.Store.CreateGroupAsync(1, "b", [])).ConversationId;
        await t.Store.AppendAsync(Text(a, 1, "1", "x"));
        await t.Store.AppendAsync(Text(b, 1, "2", "x"));
        await t.Store.AppendAsync(Text(b, 1, "3", "x"));

        var statistics = t.Store.GetStatistics();

        Assert.Equal(2, statistics.Conversations);
        Assert.Equal(3, statistics.Messages);
        Assert.Equal(1, statistics.Users);
        Assert.Equal(3, statistics.Batches);
        Assert.Equal(3, statistics.BatchedAppends);
        Assert.True(statistics.DiskBytes > 0);
    }

    [Fact]
    public void Invalid_options_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => WrenStore.Open(new StoreOptions { DataDirectory = TestStore.NewDirectory(), MaxBatchCount = 0 }));
        Assert.Throws<ArgumentException>(() => WrenStore.Open(new StoreOptions { DataDirectory = TestStore.NewDirectory(), DedupWindow = TimeSpan.Zero }));
        Assert.Throws<ArgumentException>(() => WrenStore.Open(new StoreOptions { DataDirectory = " " }));
    }

    [Fact]
    public async Task Async_durability_appends_and_reopens()
    {
        await using var t = TestStore.Create(o => o.Durability = DurabilityMode.Async);
        var id = (await t.Store.CreateGroupAsync(1, "g", [])).ConversationId;
        await Task.WhenAll(Enumerable.Range(0, 100).Select(i => t.Store.AppendAsync(Text(id, 1, "m" + i, "x")).AsTask()));
        await t.ReopenAsync();
        Assert.Equal(100UL, t.Store.GetHead(id)!.Value.Head);
    }

    [Fact]
    public async Task Dispose_completes_queued_appends_before_closing()
    {
        var t = TestStore.Create();
        var id = (await t.Store.CreateGroupAsync(1, "g", [])).ConversationId;
        var appends = Enumerable.Range(0, 500).Select(i => t.Store.AppendAsync(Text(id, 1, "m" + i, "x")).AsTask()).ToList();
        await t.Store.DisposeAsync();
        Assert.All(await Task.WhenAll(appends), r => Assert.Equal(AppendStatus.Appended, r.Status));
        await t.ReopenAsync();
        Assert.Equal(500UL, t.Store.GetHead(id)!.Value.Head);
        await t.DisposeAsync();
    }
}
