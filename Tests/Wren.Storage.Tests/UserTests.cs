using System.Security.Cryptography;
using System.Text;

namespace Wren.Storage.Tests;

public sealed class UserTests
{
    private static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    [Fact]
    public async Task Users_get_increasing_ids_and_unique_names()
    {
        await using var t = TestStore.Create();
        var alice = await t.Store.CreateUserAsync("alice", "Alice", isAdmin: true);
        var bob = await t.Store.CreateUserAsync("bob", "Bob");

        Assert.Equal(1UL, alice!.UserId);
        Assert.True(alice.IsAdmin);
        Assert.Equal(2UL, bob!.UserId);
        Assert.Null(await t.Store.CreateUserAsync("alice", "Another"));
        Assert.NotNull(await t.Store.CreateUserAsync("Alice", "case differs"));
        Assert.Equal(alice, t.Store.GetUser(1));
        Assert.Equal(bob, t.Store.FindUser("bob"));
        Assert.Null(t.Store.FindUser("carol"));
        Assert.Null(t.Store.GetUser(99));
        Assert.Equal(3, t.Store.GetStatistics().Users);
    }

    [Fact]
    public async Task ListUsers_pages_by_id()
    {
        await using var t = TestStore.Create();
        for (var i = 0; i < 5; i++)
        {
            await t.Store.CreateUserAsync("u" + i, "U" + i);
        }

        Assert.Equal([1UL, 2], t.Store.ListUsers(0, 2).Select(u => u.UserId));
        Assert.Equal([3UL, 4, 5], t.Store.ListUsers(2, 10).Select(u => u.UserId));
        Assert.Empty(t.Store.ListUsers(5, 10));
    }

    [Fact]
    public async Task SetDisabled_changes_the_flag()
    {
        await using var t = TestStore.Create();
        var user = await t.Store.CreateUserAsync("alice", "Alice");
        Assert.True(await t.Store.SetDisabledAsync(user!.UserId, true));
        Assert.True(t.Store.GetUser(user.UserId)!.Disabled);
        Assert.True(await t.Store.SetDisabledAsync(user.UserId, false));
        Assert.False(t.Store.FindUser("alice")!.Disabled);
        Assert.False(await t.Store.SetDisabledAsync(42, true));
    }

    [Fact]
    public async Task Devices_are_numbered_per_user()
    {
        await using var t = TestStore.Create();
        var alice = (await t.Store.CreateUserAsync("alice", "Alice"))!.UserId;
        var bob = (await t.Store.CreateUserAsync("bob", "Bob"))!.UserId;

        var phone = await t.Store.CreateDeviceAsync(alice, "phone");
        var laptop = await t.Store.CreateDeviceAsync(alice, "laptop");
        var bobs = await t.Store.CreateDeviceAsync(bob, "tablet");

        Assert.Equal(1U, phone.DeviceId);
        Assert.Equal(2U, laptop.DeviceId);
        Assert.Equal(1U, bobs.DeviceId);
        Assert.Equal([phone, laptop], t.Store.ListDevices(alice));
        Assert.Empty(t.Store.ListDevices(99));
        await Assert.ThrowsAsync<ArgumentException>(async () => await t.Store.CreateDeviceAsync(99, "ghost"));
    }

    [Fact]
    public async Task Tokens_are_found_by_hash_listed_and_revoked()
    {
        await using var t = TestStore.Create();
        var first = new TokenRecord(Hash("secret-1"), 1, 1, 100, 0, false);
        var second = new TokenRecord(Hash("secret-2"), 1, 2, 200, 5000, false);
        var other = new TokenRecord(Hash("secret-3"), 2, 1, 300, 0, false);
        await t.Store.StoreTokenAsync(first);
        await t.Store.StoreTokenAsync(second);
        await t.Store.StoreTokenAsync(other);

        var found = t.Store.FindToken(Hash("secret-2"));
        Assert.NotNull(found);
        Assert.Equal(second.TokenHash, found.TokenHash);
        Assert.Equal((1UL, 2U, 200L, 5000L, false), (found.UserId, found.DeviceId, found.CreatedMs, found.ExpiresMs, found.Revoked));
        Assert.Null(t.Store.FindToken(Hash("unknown")));
        Assert.Null(t.Store.FindToken(new byte[5]));
        Assert.Equal(2, t.Store.ListTokens(1).Count);

        Assert.True(await t.Store.RevokeTokenAsync(Hash("secret-1")));
        Assert.True(t.Store.FindToken(Hash("secret-1"))!.Revoked);
        Assert.False(await t.Store.RevokeTokenAsync(Hash("unknown")));
        await Assert.ThrowsAsync<ArgumentException>(async () => await t.Store.StoreTokenAsync(first with { TokenHash = new byte[16] }));
    }
}
