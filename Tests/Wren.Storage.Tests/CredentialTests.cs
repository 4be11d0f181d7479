using System.Security.Cryptography;

namespace Wren.Storage.Tests;

/// <summary>Passwords, TOTP state and refresh tokens in the credentials column family.</summary>
public class CredentialTests
{
    private static readonly byte[] Key1 = RandomNumberGenerator.GetBytes(32);

    [Fact]
    public async Task Credentials_and_the_last_totp_step_survive_a_reopen_and_steps_only_move_forward()
    {
        await using var t = TestStore.Create();
        var user = (await t.Store.CreateUserAsync("alice", "Alice"))!;
        Assert.Null(t.Store.GetCredentials(user.UserId).PasswordHash);

        var secret = RandomNumberGenerator.GetBytes(20);
        await t.Store.SetPasswordHashAsync(user.UserId, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA");
        await t.Store.SetTotpAsync(user.UserId, secret, enabled: true);
        Assert.True(await t.Store.TryUseTotpStepAsync(user.UserId, 100));
        Assert.False(await t.Store.TryUseTotpStepAsync(user.UserId, 100));
        Assert.False(await t.Store.TryUseTotpStepAsync(user.UserId, 99));

        await t.ReopenAsync();
        var credentials = t.Store.GetCredentials(user.UserId);
        Assert.Equal("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", credentials.PasswordHash);
        Assert.Equal(secret, credentials.TotpSecret);
        Assert.True(credentials.TotpEnabled);
        Assert.Equal(100, credentials.LastTotpStep);
        Assert.False(await t.Store.TryUseTotpStepAsync(user.UserId, 100));
        Assert.True(await t.Store.TryUseTotpStepAsync(user.UserId, 101));

        await t.Store.SetTotpAsync(user.UserId, null, enabled: true);
        Assert.Null(t.Store.GetCredentials(user.UserId).TotpSecret);
        Assert.False(t.Store.GetCredentials(user.UserId).TotpEnabled);
    }

    [Fact]
    public async Task With_encryption_the_totp_secret_is_in_no_file_and_without_it_the_same_scan_finds_it()
    {
        Assert.Equal(0, await FilesContainingSecretAsync(new EncryptionOptions { Keys = new Dictionary<byte, byte[]> { [1] = Key1 }, ActiveKeyId = 1 }));
        Assert.True(await FilesContainingSecretAsync(null) > 0);
    }

    [Fact]
    public async Task Refresh_rotation_replaces_the_pair_and_reuse_revokes_the_device()
    {
        await using var t = TestStore.Create();
        var user = (await t.Store.CreateUserAsync("bob", "Bob"))!;
        var device = await t.Store.CreateDeviceAsync(user.UserId, "phone");
        var other = await t.Store.CreateDeviceAsync(user.UserId, "laptop");
        var access1 = Token(user.UserId, device.DeviceId);
        var otherAccess = Token(user.UserId, other.DeviceId);
        await t.Store.StoreTokenAsync(access1);
        await t.Store.StoreTokenAsync(otherAccess);
        var refresh1 = Refresh(access1);
        await t.Store.StoreRefreshAsync(refresh1);

        var access2 = Token(user.UserId, device.DeviceId);
        var refresh2 = Refresh(access2);
        Assert.Equal(RefreshOutcome.Rotated, await t.Store.RotateRefreshAsync(refresh1.TokenHash, 1, access2, refresh2));
        Assert.True(t.Store.FindToken(access1.TokenHash)!.Revoked);
        Assert.False(t.Store.FindToken(access2.TokenHash)!.Revoked);

        // The first refresh token again: reuse. Every token of the device is revoked; the other device is untouched.
        var access3 = Token(user.UserId, device.DeviceId);
        Assert.Equal(RefreshOutcome.Reused, await t.Store.RotateRefreshAsync(refresh1.TokenHash, 1, access3, Refresh(access3)));
        Assert.True(t.Store.FindToken(access2.TokenHash)!.Revoked);
        Assert.Null(t.Store.FindToken(access3.TokenHash));
        Assert.False(t.Store.FindToken(otherAccess.TokenHash)!.Revoked);
        Assert.Equal(RefreshOutcome.Reused, await t.Store.RotateRefreshAsync(refresh2.TokenHash, 1, access3, Refresh(access3)));

        // Unknown and expired refresh tokens change nothing.
        Assert.Equal(RefreshOutcome.NotFound, await t.Store.RotateRefreshAsync(RandomNumberGenerator.GetBytes(32), 1, access3, Refresh(access3)));
        Assert.Equal(RefreshOutcome.NotFound, await t.Store.RotateRefreshAsync(refresh2.TokenHash, long.MaxValue, access3, Refresh(access3)));
    }

    private static TokenRecord Token(ulong user, uint device) => new(RandomNumberGenerator.GetBytes(32), user, device, 1, 0, Revoked: false);

    private static RefreshRecord Refresh(TokenRecord access) => new(RandomNumberGenerator.GetBytes(32), access.UserId, access.DeviceId, access.TokenHash, 1, 1_000_000);

    private static async Task<int> FilesContainingSecretAsync(EncryptionOptions? encryption)
    {
        var t = TestStore.Create(o => o.Encryption = encryption);
        try
        {
            var user = (await t.Store.CreateUserAsync("carol", "Carol"))!;
            var secret = RandomNumberGenerator.GetBytes(20);
            await t.Store.SetTotpAsync(user.UserId, secret, enabled: true);
            Assert.Equal(secret, t.Store.GetCredentials(user.UserId).TotpSecret);
            t.Store.FlushMemtables();
            await t.Store.DisposeAsync();
            return Directory.GetFiles(t.Directory, "*", SearchOption.AllDirectories).Count(f => File.ReadAllBytes(f).AsSpan().IndexOf(secret) >= 0);
        }
        finally
        {
            await t.DisposeAsync();
        }
    }
}
