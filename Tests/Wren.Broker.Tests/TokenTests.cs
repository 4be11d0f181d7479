using Wren.Protocol;
using Wren.Protocol.Messages;
using static Wren.Broker.Tests.AuthTestKit;

namespace Wren.Broker.Tests;

/// <summary>Issued tokens: expiry ends live sessions, refresh rotates and detects reuse, logout and revocation close sessions.</summary>
public sealed class TokenTests
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task An_expired_token_ends_its_live_session_and_no_longer_authenticates()
    {
        await using var broker = await TestBroker.StartAsync(o =>
        {
            CheapHashes(o);
            o.Auth.AccessTokenLifetime = TimeSpan.FromSeconds(2);
        });
        await CreateUserWithPasswordAsync(broker, "alice");
        var ok = await LoginOkAsync(broker, "alice");
        await using var session = await RawConnection.ConnectAuthenticatedAsync(broker, ok.IssuedToken!);
        await session.PingAsync();

        var closed = await ClosedWithinAsync(session, TimeSpan.FromSeconds(2) + Within);
        Assert.Equal(ErrorCode.SessionRevoked, closed?.Code);
        Assert.True(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() >= ok.ExpiresMs, "the session must not end before the expiry");

        await ExpectRefusedAsync(await AuthAsync(broker, new Auth { Method = AuthMethod.Token, Token = ok.IssuedToken }), ErrorCode.AuthFailed);

        // The refresh token outlives the access token and gets a new pair.
        var (answer, connection) = await AuthAsync(broker, new Auth { Method = AuthMethod.RefreshToken, Token = ok.RefreshToken });
        await using var refreshed = connection;
        var again = Assert.IsType<AuthOk>(answer.Message);
        Assert.Equal(ok.DeviceId, again.DeviceId);
        Assert.NotEqual(ok.IssuedToken, again.IssuedToken);
    }

    [Fact]
    public async Task Refresh_rotates_the_pair_and_reusing_an_old_refresh_token_revokes_the_family()
    {
        await using var broker = await TestBroker.StartAsync(CheapHashes);
        await CreateUserWithPasswordAsync(broker, "bob");
        var first = await LoginOkAsync(broker, "bob");

        // Rotation: the new pair works, the old access token is revoked.
        var (answer, connection) = await AuthAsync(broker, new Auth { Method = AuthMethod.RefreshToken, Token = first.RefreshToken });
        await using var second = connection;
        var rotated = Assert.IsType<AuthOk>(answer.Message);
        Assert.NotEqual(first.RefreshToken, rotated.RefreshToken);
        await ExpectRefusedAsync(await AuthAsync(broker, new Auth { Method = AuthMethod.Token, Token = first.IssuedToken }), ErrorCode.AuthFailed);
        await using var live = await RawConnection.ConnectAuthenticatedAsync(broker, rotated.IssuedToken!);

        // Reuse of the first refresh token (as a thief would): refused, and the whole device family is revoked.
        await ExpectRefusedAsync(await AuthAsync(broker, new Auth { Method = AuthMethod.RefreshToken, Token = first.RefreshToken }), ErrorCode.AuthFailed);
        Assert.Equal(ErrorCode.SessionRevoked, (await ClosedWithinAsync(live, Within))?.Code);
        Assert.Equal(ErrorCode.SessionRevoked, (await ClosedWithinAsync(second, Within))?.Code);
        await ExpectRefusedAsync(await AuthAsync(broker, new Auth { Method = AuthMethod.Token, Token = rotated.IssuedToken }), ErrorCode.AuthFailed);
        await ExpectRefusedAsync(await AuthAsync(broker, new Auth { Method = AuthMethod.RefreshToken, Token = rotated.RefreshToken }), ErrorCode.AuthFailed);
        await ExpectRefusedAsync(await AuthAsync(broker, new Auth { Method = AuthMethod.RefreshToken, Token = "wrenr_unknown" }), ErrorCode.AuthFailed);
    }

    [Fact]
    public async Task Refresh_inside_a_session_keeps_it_open_on_the_new_token()
    {
        await using var broker = await TestBroker.StartAsync(CheapHashes);
        await CreateUserWithPasswordAsync(broker, "carol");
        var ok = await LoginOkAsync(broker, "carol");
        await using var session = await RawConnection.ConnectAuthenticatedAsync(broker, ok.IssuedToken!);

        var pair = Assert.IsType<TokenPair>((await RequestAsync(session, new RefreshSession { RefreshToken = ok.RefreshToken! })).Message);
        await session.PingAsync();
        await using var other = await RawConnection.ConnectAuthenticatedAsync(broker, pair.AccessToken);

        // Another user's refresh token is not accepted here.
        await CreateUserWithPasswordAsync(broker, "dan");
        var dan = await LoginOkAsync(broker, "dan");
        var denied = await RequestAsync(session, new RefreshSession { RefreshToken = dan.RefreshToken! });
        Assert.Equal(ErrorCode.Forbidden, (denied.Message as Error)?.Code);
        await session.PingAsync();
    }

    [Fact]
    public async Task Logout_revokes_the_device_and_closes_its_sessions_but_not_other_devices()
    {
        await using var broker = await TestBroker.StartAsync(CheapHashes);
        await CreateUserWithPasswordAsync(broker, "erin");
        var phone = await LoginOkAsync(broker, "erin");
        var laptop = await LoginOkAsync(broker, "erin");
        await using var phoneA = await RawConnection.ConnectAuthenticatedAsync(broker, phone.IssuedToken!);
        await using var phoneB = await RawConnection.ConnectAuthenticatedAsync(broker, phone.IssuedToken!);
        await using var laptopSession = await RawConnection.ConnectAuthenticatedAsync(broker, laptop.IssuedToken!);

        var answer = await RequestAsync(phoneA, new Logout());
        Assert.Equal(MessageType.Ok, answer.Header.MessageType);
        await phoneA.ExpectClosedAsync();
        Assert.Equal(ErrorCode.SessionRevoked, (await ClosedWithinAsync(phoneB, Within))?.Code);
        await laptopSession.PingAsync();

        await ExpectRefusedAsync(await AuthAsync(broker, new Auth { Method = AuthMethod.Token, Token = phone.IssuedToken }), ErrorCode.AuthFailed);
        await ExpectRefusedAsync(await AuthAsync(broker, new Auth { Method = AuthMethod.RefreshToken, Token = phone.RefreshToken }), ErrorCode.AuthFailed);
    }

    [Fact]
    public async Task Disabling_a_user_closes_sessions_of_password_logins_within_five_seconds()
    {
        await using var broker = await TestBroker.StartAsync(CheapHashes);
        ulong userId = await CreateUserWithPasswordAsync(broker, "frank");
        var ok = await LoginOkAsync(broker, "frank");
        await using var session = await RawConnection.ConnectAuthenticatedAsync(broker, ok.IssuedToken!);
        var admin = await broker.Server.CreateUserAsync("ops", "cli", isAdmin: true);
        await using var adminSession = await RawConnection.ConnectAuthenticatedAsync(broker, admin.Token);

        Assert.Equal(MessageType.Ok, (await RequestAsync(adminSession, new AdminSetDisabled { UserId = userId, Disabled = true })).Header.MessageType);

        Assert.Equal(ErrorCode.SessionRevoked, (await ClosedWithinAsync(session, Within))?.Code);
        await ExpectRefusedAsync(await AuthAsync(broker, new Auth { Method = AuthMethod.RefreshToken, Token = ok.RefreshToken }), ErrorCode.AuthFailed);
    }
}
