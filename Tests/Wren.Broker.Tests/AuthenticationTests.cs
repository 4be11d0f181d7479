using Wren.Broker.Core;
using Wren.Protocol;
using Wren.Protocol.Messages;
using static Wren.Broker.Tests.AuthTestKit;

namespace Wren.Broker.Tests;

/// <summary>Password logins: Argon2id hashes, issued token pairs, uniform failures, password changes, throttling.</summary>
public sealed class AuthenticationTests
{
    [Fact]
    public async Task Password_login_issues_a_device_token_pair_that_then_authenticates()
    {
        await using var broker = await TestBroker.StartAsync();
        ulong userId = await CreateUserWithPasswordAsync(broker, "alice");
        long before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        var ok = await LoginOkAsync(broker, "alice");

        Assert.Equal(userId, ok.UserId);
        Assert.StartsWith("wren_", ok.IssuedToken);
        Assert.StartsWith("wrenr_", ok.RefreshToken);
        Assert.InRange(ok.ExpiresMs, before + (long)TimeSpan.FromDays(30).TotalMilliseconds - 60_000, before + (long)TimeSpan.FromDays(30).TotalMilliseconds + 60_000);
        Assert.True(ok.RefreshExpiresMs > ok.ExpiresMs);
        Assert.Contains(broker.Server.Store.ListDevices(userId), d => d.DeviceId == ok.DeviceId && d.Name == "test");

        // The issued token is an ordinary device token: the SDK connects with it (same device).
        await using var client = await broker.ConnectAsync(ok.IssuedToken!);
        Assert.Equal(ok.DeviceId, client.Session!.DeviceId);
        Assert.Null(client.Session.IssuedToken);
    }

    [Fact]
    public async Task Wrong_password_unknown_user_and_disabled_user_get_the_same_answer()
    {
        await using var broker = await TestBroker.StartAsync();
        ulong userId = await CreateUserWithPasswordAsync(broker, "bob");
        await CreateUserWithPasswordAsync(broker, "carol");
        await broker.Server.Store.SetDisabledAsync(userId, true);

        var wrong = await ExpectRefusedAsync(await PasswordLoginAsync(broker, "carol", "not the password"), ErrorCode.AuthFailed);
        var unknown = await ExpectRefusedAsync(await PasswordLoginAsync(broker, "nobody", Password), ErrorCode.AuthFailed);
        var disabled = await ExpectRefusedAsync(await PasswordLoginAsync(broker, "bob", Password), ErrorCode.AuthFailed);

        Assert.Equal(wrong.Message, unknown.Message);
        Assert.Equal(wrong.Message, disabled.Message);
        Assert.Equal(0u, wrong.RetryAfterMs);

        // A user without a password (token-only) cannot log in with any password.
        await broker.CreateUserAsync("tokenonly");
        await ExpectRefusedAsync(await PasswordLoginAsync(broker, "tokenonly", ""), ErrorCode.InvalidArgument);
        await ExpectRefusedAsync(await PasswordLoginAsync(broker, "tokenonly", Password), ErrorCode.AuthFailed);
    }

    [Fact]
    public async Task Stored_hash_is_argon2id_with_owasp_parameters_and_a_salt_per_hash()
    {
        await using var broker = await TestBroker.StartAsync();
        ulong a = await CreateUserWithPasswordAsync(broker, "a1");
        ulong b = await CreateUserWithPasswordAsync(broker, "b1");

        string hashA = broker.Server.Store.GetCredentials(a).PasswordHash!;
        string hashB = broker.Server.Store.GetCredentials(b).PasswordHash!;
        Assert.StartsWith("$argon2id$v=19$m=19456,t=2,p=1$", hashA);
        Assert.True(PasswordHasher.IsWellFormed(hashA));
        Assert.NotEqual(hashA, hashB);
        Assert.DoesNotContain(Password, hashA, StringComparison.Ordinal);

        // The parameters travel with the hash: a hash made with other parameters still verifies after a change.
        var cheap = new AuthOptions { PasswordMemoryKiB = 1024, PasswordIterations = 1 };
        using var hasher = new PasswordHasher(cheap);
        string cheapHash = (await hasher.HashAsync("p4ssw0rd!"))!;
        Assert.StartsWith("$argon2id$v=19$m=1024,t=1,p=1$", cheapHash);
        using var strong = new PasswordHasher(new AuthOptions());
        Assert.True(await strong.VerifyAsync("p4ssw0rd!", cheapHash));
        Assert.False(await strong.VerifyAsync("p4ssw0rd?", cheapHash));
        Assert.False(await strong.VerifyAsync("p4ssw0rd!", cheapHash.Replace("m=1024", "m=2048", StringComparison.Ordinal)));
        Assert.False(await strong.VerifyAsync("p4ssw0rd!", null));
    }

    [Fact]
    public async Task Administrator_sets_a_password_and_a_user_changes_their_own_with_the_current_one()
    {
        await using var broker = await TestBroker.StartAsync(CheapHashes);
        var admin = await broker.CreateUserAsync("root-admin");
        await broker.Server.Store.CreateUserAsync("dave", "Dave");
        await using (var adminConnection = await RawConnection.ConnectAuthenticatedAsync(broker, (await broker.Server.CreateUserAsync("ops", "cli", isAdmin: true)).Token))
        {
            var set = await RequestAsync(adminConnection, new AdminSetPassword { UserName = "dave", Password = "first-password" });
            Assert.Equal(MessageType.Ok, set.Header.MessageType);
            var missing = await RequestAsync(adminConnection, new AdminSetPassword { UserName = "nobody", Password = "first-password" });
            Assert.Equal(ErrorCode.NotFound, (missing.Message as Error)?.Code);
            var tooShort = await RequestAsync(adminConnection, new AdminSetPassword { UserName = "dave", Password = "short" });
            Assert.Equal(ErrorCode.InvalidArgument, (tooShort.Message as Error)?.Code);
        }

        // A non-administrator may not set passwords.
        await using (var plain = await RawConnection.ConnectAuthenticatedAsync(broker, admin.Token))
        {
            var denied = await RequestAsync(plain, new AdminSetPassword { UserName = "dave", Password = "hijacked-password" });
            Assert.Equal(ErrorCode.Forbidden, (denied.Message as Error)?.Code);
        }

        var ok = await LoginOkAsync(broker, "dave", "first-password");
        await using (var session = await RawConnection.ConnectAuthenticatedAsync(broker, ok.IssuedToken!))
        {
            var wrongCurrent = await RequestAsync(session, new ChangePassword { CurrentPassword = "not-it", NewPassword = "second-password" });
            Assert.Equal(ErrorCode.Forbidden, (wrongCurrent.Message as Error)?.Code);
            var changed = await RequestAsync(session, new ChangePassword { CurrentPassword = "first-password", NewPassword = "second-password" });
            Assert.Equal(MessageType.Ok, changed.Header.MessageType);
        }

        await ExpectRefusedAsync(await PasswordLoginAsync(broker, "dave", "first-password"), ErrorCode.AuthFailed);
        await LoginOkAsync(broker, "dave", "second-password");
    }

    [Fact]
    public async Task Failed_logins_lock_the_account_with_a_retry_after_and_success_resets_the_count()
    {
        await using var broker = await TestBroker.StartAsync(o =>
        {
            CheapHashes(o);
            o.Auth.AccountFreeFailures = 3;
            o.Auth.AddressFreeFailures = 1000;
            o.Auth.LockoutBase = TimeSpan.FromSeconds(30);
        });
        await CreateUserWithPasswordAsync(broker, "erin");
        await CreateUserWithPasswordAsync(broker, "frank");

        // Two failures, then a success: the count starts again, so three more failures are still only AuthFailed.
        for (int i = 0; i < 2; i++)
        {
            await ExpectRefusedAsync(await PasswordLoginAsync(broker, "erin", "wrong"), ErrorCode.AuthFailed);
        }

        await LoginOkAsync(broker, "erin");
        for (int i = 0; i < 4; i++)
        {
            await ExpectRefusedAsync(await PasswordLoginAsync(broker, "erin", "wrong"), ErrorCode.AuthFailed);
        }

        // The fourth failure in a row locked the account: even the right password is now refused, with a retry-after.
        var locked = await ExpectRefusedAsync(await PasswordLoginAsync(broker, "erin", Password), ErrorCode.RateLimited);
        Assert.InRange(locked.RetryAfterMs, 1u, 30_000u);

        // Per account: another account from the same address is unaffected.
        await LoginOkAsync(broker, "frank");

        // An unknown name is throttled exactly like a real one, so the lockout does not reveal which accounts exist.
        for (int i = 0; i < 4; i++)
        {
            await ExpectRefusedAsync(await PasswordLoginAsync(broker, "ghost", "wrong"), ErrorCode.AuthFailed);
        }

        var ghost = await ExpectRefusedAsync(await PasswordLoginAsync(broker, "ghost", "wrong"), ErrorCode.RateLimited);
        Assert.Equal(locked.Message, ghost.Message);
    }

    [Fact]
    public async Task Failed_logins_from_one_address_lock_that_address_across_account_names()
    {
        await using var broker = await TestBroker.StartAsync(o =>
        {
            CheapHashes(o);
            o.Auth.AccountFreeFailures = 1000;
            o.Auth.AddressFreeFailures = 4;
            o.Auth.LockoutBase = TimeSpan.FromSeconds(20);
        });
        await CreateUserWithPasswordAsync(broker, "henry");

        for (int i = 0; i < 5; i++)
        {
            await ExpectRefusedAsync(await PasswordLoginAsync(broker, "spray" + i, "guess"), ErrorCode.AuthFailed);
        }

        var locked = await ExpectRefusedAsync(await PasswordLoginAsync(broker, "henry", Password), ErrorCode.RateLimited);
        Assert.InRange(locked.RetryAfterMs, 1u, 20_000u);

        // Token logins are not password guesses and stay open (the token is the credential).
        var token = await broker.CreateUserAsync("ivy");
        await using var connection = await RawConnection.ConnectAuthenticatedAsync(broker, token.Token);
    }
}
