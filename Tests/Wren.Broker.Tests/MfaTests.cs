using Wren.Protocol;
using Wren.Protocol.Messages;
using static Wren.Broker.Tests.AuthTestKit;

namespace Wren.Broker.Tests;

/// <summary>TOTP MFA: enrollment, codes required at password login, the ±1 step window and single use of each code.</summary>
public sealed class MfaTests
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Enrolled_mfa_requires_a_code_and_a_code_is_never_accepted_twice()
    {
        var clock = new StepClock();
        await using var broker = await TestBroker.StartAsync(CheapHashes, clock);
        ulong userId = await CreateUserWithPasswordAsync(broker, "alice");
        var ok = await LoginOkAsync(broker, "alice");
        byte[] secret;
        string secretText;
        await using (var session = await RawConnection.ConnectAuthenticatedAsync(broker, ok.IssuedToken!))
        {
            var enrollment = Assert.IsType<TotpEnrollment>((await RequestAsync(session, new TotpEnroll())).Message);
            Assert.StartsWith("otpauth://totp/Wren:alice?secret=" + enrollment.Secret, enrollment.Uri);
            Assert.Contains("period=30", enrollment.Uri);
            secretText = enrollment.Secret;
            secret = Base32(secretText);
            Assert.Equal(20, secret.Length);

            // Until confirmed, MFA is not required.
            Assert.False(broker.Server.Store.GetCredentials(userId).TotpEnabled);
            var wrong = await RequestAsync(session, new TotpConfirm { Code = WrongCode(secret, clock) });
            Assert.Equal(ErrorCode.Forbidden, (wrong.Message as Error)?.Code);

            // Confirm with the previous step's code (−1 step is inside the window).
            var confirmed = await RequestAsync(session, new TotpConfirm { Code = Totp(secret, clock.GetUtcNow() - Step) });
            Assert.Equal(MessageType.Ok, confirmed.Header.MessageType);
        }

        // The secret is never written to the log.
        Assert.DoesNotContain(broker.Logs.Entries, e => e.Message.Contains(secretText, StringComparison.Ordinal));

        var noCode = await ExpectRefusedAsync(await PasswordLoginAsync(broker, "alice", Password), ErrorCode.AuthFailed);
        Assert.Contains("TOTP", noCode.Message);
        await ExpectRefusedAsync(await PasswordLoginAsync(broker, "alice", Password, WrongCode(secret, clock)), ErrorCode.AuthFailed);
        await ExpectRefusedAsync(await PasswordLoginAsync(broker, "alice", "wrong password", Totp(secret, clock.GetUtcNow())), ErrorCode.AuthFailed);

        // +1 step is inside the window; after it, the current and earlier steps are spent.
        string next = Totp(secret, clock.GetUtcNow() + Step);
        await LoginOkAsync(broker, "alice", Password, next);
        var replay = await ExpectRefusedAsync(await PasswordLoginAsync(broker, "alice", Password, next), ErrorCode.AuthFailed);
        Assert.Contains("TOTP", replay.Message);
        await ExpectRefusedAsync(await PasswordLoginAsync(broker, "alice", Password, Totp(secret, clock.GetUtcNow())), ErrorCode.AuthFailed);

        // The spent step survives a restart of the authenticator's state: it is stored with the user.
        Assert.Equal(clock.GetUtcNow().Add(Step).ToUnixTimeSeconds() / 30, broker.Server.Store.GetCredentials(userId).LastTotpStep);
    }

    [Fact]
    public async Task Codes_outside_one_step_either_way_are_refused()
    {
        var clock = new StepClock();
        await using var broker = await TestBroker.StartAsync(CheapHashes, clock);
        await CreateUserWithPasswordAsync(broker, "bob");
        var ok = await LoginOkAsync(broker, "bob");
        await using var session = await RawConnection.ConnectAuthenticatedAsync(broker, ok.IssuedToken!);
        var secret = Base32(Assert.IsType<TotpEnrollment>((await RequestAsync(session, new TotpEnroll())).Message).Secret);

        foreach (var offset in new[] { -3, -2, 2, 3 })
        {
            var answer = await RequestAsync(session, new TotpConfirm { Code = Totp(secret, clock.GetUtcNow() + (offset * Step)) });
            Assert.True((answer.Message as Error)?.Code == ErrorCode.Forbidden, $"a code {offset} steps away was accepted");
        }

        // Control: the current code is accepted, so the refusals above came from the window, not a broken secret.
        Assert.Equal(MessageType.Ok, (await RequestAsync(session, new TotpConfirm { Code = Totp(secret, clock.GetUtcNow()) })).Header.MessageType);
    }

    [Fact]
    public async Task Disabling_mfa_needs_a_valid_code_or_an_administrator()
    {
        var clock = new StepClock();
        await using var broker = await TestBroker.StartAsync(CheapHashes, clock);
        await CreateUserWithPasswordAsync(broker, "carol");
        var ok = await LoginOkAsync(broker, "carol");
        await using (var session = await RawConnection.ConnectAuthenticatedAsync(broker, ok.IssuedToken!))
        {
            var secret = Base32(Assert.IsType<TotpEnrollment>((await RequestAsync(session, new TotpEnroll())).Message).Secret);
            Assert.Equal(MessageType.Ok, (await RequestAsync(session, new TotpConfirm { Code = Totp(secret, clock.GetUtcNow() - Step) })).Header.MessageType);
            Assert.Equal(ErrorCode.Conflict, ((await RequestAsync(session, new TotpEnroll())).Message as Error)?.Code);

            Assert.Equal(ErrorCode.Forbidden, ((await RequestAsync(session, new TotpDisable { Code = WrongCode(secret, clock) })).Message as Error)?.Code);
            Assert.Equal(MessageType.Ok, (await RequestAsync(session, new TotpDisable { Code = Totp(secret, clock.GetUtcNow()) })).Header.MessageType);
        }

        await LoginOkAsync(broker, "carol");

        // Enrolled again; the administrator turns it off for a user who lost the device.
        var again = await LoginOkAsync(broker, "carol");
        await using (var session = await RawConnection.ConnectAuthenticatedAsync(broker, again.IssuedToken!))
        {
            var secret = Base32(Assert.IsType<TotpEnrollment>((await RequestAsync(session, new TotpEnroll())).Message).Secret);
            Assert.Equal(MessageType.Ok, (await RequestAsync(session, new TotpConfirm { Code = Totp(secret, clock.GetUtcNow() + Step) })).Header.MessageType);
        }

        await ExpectRefusedAsync(await PasswordLoginAsync(broker, "carol", Password), ErrorCode.AuthFailed);
        var admin = await broker.Server.CreateUserAsync("ops", "cli", isAdmin: true);
        await using (var adminSession = await RawConnection.ConnectAuthenticatedAsync(broker, admin.Token))
        {
            Assert.Equal(MessageType.Ok, (await RequestAsync(adminSession, new AdminSetPassword { UserName = "carol", DisableMfa = true })).Header.MessageType);
        }

        await LoginOkAsync(broker, "carol");
    }

    /// <summary>A 6-digit code that matches none of the steps around now.</summary>
    private static string WrongCode(byte[] secret, TimeProvider clock)
    {
        var now = clock.GetUtcNow();
        var valid = Enumerable.Range(-2, 5).Select(i => Totp(secret, now + (i * Step))).ToHashSet();
        return Enumerable.Range(0, 1000).Select(i => i.ToString("D6", System.Globalization.CultureInfo.InvariantCulture)).First(c => !valid.Contains(c));
    }
}
