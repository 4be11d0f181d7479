using Wren.Client;
using Wren.Protocol;
using Wren.Protocol.Messages;
using static Wren.Broker.Tests.AuthTestKit;

namespace Wren.Broker.Tests;

/// <summary>The SDK's account surface: password login on connect, reconnect on the issued token, refresh, MFA, logout.</summary>
public sealed class AccountClientTests
{
    [Fact]
    public async Task Sdk_logs_in_with_a_password_reconnects_on_the_issued_token_refreshes_and_logs_out()
    {
        var clock = new StepClock();
        await using var broker = await TestBroker.StartAsync(CheapHashes, clock);
        ulong userId = await CreateUserWithPasswordAsync(broker, "alice");
        var issued = new List<TokenPair>();
        var options = broker.ClientOptions("");
        options.UserName = "alice";
        options.Password = Password;
        options.DeviceName = "laptop";
        options.TokensIssued = issued.Add;

        await using var client = await WrenClient.ConnectAsync(options);
        Assert.Equal(userId, client.Session!.UserId);
        var login = Assert.Single(issued);
        Assert.Equal(client.Session.IssuedToken, login.AccessToken);
        Assert.Equal(login.AccessToken, options.Token);
        Assert.Null(options.Password);
        int devices = broker.Server.Store.ListDevices(userId).Count;

        // A reconnect authenticates with the issued token: same device, no new one.
        int reconnects = client.Reconnects;
        client.SimulateDisconnect();
        await Await.UntilAsync(() => client.Reconnects > reconnects && client.IsConnected, "reconnect");
        await client.PingAsync();
        Assert.Equal(login.AccessToken, options.Token);
        Assert.Equal(devices, broker.Server.Store.ListDevices(userId).Count);

        var refreshed = await client.RefreshAsync();
        Assert.Equal(2, issued.Count);
        Assert.Equal(refreshed.AccessToken, options.Token);
        await client.PingAsync();

        var enrollment = await client.TotpEnrollAsync();
        var secret = Base32(enrollment.Secret);
        var wrong = await Assert.ThrowsAsync<WrenClientException>(() => client.TotpConfirmAsync("000000" == Totp(secret, clock.GetUtcNow()) ? "111111" : "000000"));
        Assert.Equal(ErrorCode.Forbidden, wrong.Code);
        await client.TotpConfirmAsync(Totp(secret, clock.GetUtcNow()));

        await client.LogoutAsync();
        Assert.True(client.Events.Completion.IsCompleted, "the client is closed after logout");
        await ExpectRefusedAsync(await AuthAsync(broker, new Auth { Method = AuthMethod.Token, Token = refreshed.AccessToken }), ErrorCode.AuthFailed);

        // MFA is now on: the SDK login needs the code.
        var mfaOptions = broker.ClientOptions("");
        mfaOptions.UserName = "alice";
        mfaOptions.Password = Password;
        mfaOptions.AutoReconnect = false;
        var refused = await Assert.ThrowsAsync<WrenClientException>(() => WrenClient.ConnectAsync(mfaOptions));
        Assert.Equal(ErrorCode.AuthFailed, refused.Code);
        mfaOptions.TotpCode = Totp(secret, clock.GetUtcNow() + TimeSpan.FromSeconds(30));
        await using var second = await WrenClient.ConnectAsync(mfaOptions);
        await second.ChangePasswordAsync(Password, "another good password");
    }

    [Fact]
    public async Task Sdk_reconnects_with_the_refresh_token_when_its_access_token_expired()
    {
        await using var broker = await TestBroker.StartAsync(o =>
        {
            CheapHashes(o);
            o.Auth.AccessTokenLifetime = TimeSpan.FromSeconds(2);
        });
        await CreateUserWithPasswordAsync(broker, "bob");
        var issued = new System.Collections.Concurrent.ConcurrentQueue<TokenPair>();
        var options = broker.ClientOptions("");
        options.UserName = "bob";
        options.Password = Password;
        options.TokensIssued = issued.Enqueue;

        await using var client = await WrenClient.ConnectAsync(options);
        uint device = client.Session!.DeviceId;

        // The broker ends the session at expiry; the SDK reconnects with the refresh token and gets a new pair.
        await Await.UntilAsync(() => issued.Count >= 2 && client.IsConnected, "a refreshed reconnect");
        await client.PingAsync();
        Assert.Equal(device, client.Session!.DeviceId);
        Assert.Equal(issued.Last().AccessToken, options.Token);
        Assert.Single(broker.Server.Store.ListDevices(client.Session.UserId), d => d.DeviceId == device);
    }
}
