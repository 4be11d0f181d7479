namespace Wren.Cli.Tests;

/// <summary><c>wren user passwd</c>, <c>wren login</c>, <c>wren passwd</c>, <c>wren mfa</c>, <c>wren refresh</c> and <c>wren logout</c> against a real broker.</summary>
public class AccountCommandTests
{
    [Fact]
    public async Task Admin_sets_a_password_user_logs_in_changes_it_refreshes_and_logs_out()
    {
        await using var broker = await CliBroker.StartAsync(o =>
        {
            o.Auth.PasswordMemoryKiB = 1024;
            o.Auth.PasswordIterations = 1;
        });
        broker.AssertOk(await broker.RunAsync("user", "create", "alice"));
        broker.AssertOk(await broker.RunWithAsync(new StringReader("first-password\n"), null, "user", "passwd", "alice"));

        var login = await broker.RunWithAsync(new StringReader("first-password\n"), null, "login", "alice");
        broker.AssertOk(login);
        Assert.Contains("logged in as alice", login.Out);
        string tokenFile = Path.Combine(broker.Root, "alice.token");
        Assert.StartsWith("wren_", File.ReadAllText(tokenFile).Trim());
        Assert.StartsWith("wrenr_", File.ReadAllText(tokenFile + ".refresh").Trim());
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(tokenFile));
        }

        var wrong = await broker.RunWithAsync(new StringReader("not-the-password\n"), null, "login", "alice", "--out", "other.token");
        Assert.Equal(3, wrong.ExitCode);
        Assert.False(File.Exists(Path.Combine(broker.Root, "other.token")));

        broker.AssertOk(await broker.RunWithAsync(new StringReader("first-password\nsecond-password\n"), null, "passwd", "--token-file", "alice.token"));
        string before = File.ReadAllText(tokenFile);
        broker.AssertOk(await broker.RunAsync("refresh", "--token-file", "alice.token"));
        Assert.NotEqual(before, File.ReadAllText(tokenFile));

        var enroll = await broker.RunAsync("mfa", "enroll", "--token-file", "alice.token");
        broker.AssertOk(enroll);
        Assert.Contains("otpauth://totp/", enroll.Out);

        var logout = await broker.RunAsync("logout", "--token-file", "alice.token");
        broker.AssertOk(logout);
        Assert.False(File.Exists(tokenFile));

        // The revoked token no longer works; the new password does.
        File.WriteAllText(tokenFile, before);
        Assert.Equal(3, (await broker.RunAsync("conversations", "--token-file", "alice.token")).ExitCode);
        broker.AssertOk(await broker.RunWithAsync(new StringReader("second-password\n"), null, "login", "alice"));
    }
}

internal static class CliAssertions
{
    public static void AssertOk(this CliBroker broker, CliResult result)
    {
        _ = broker;
        Assert.True(result.ExitCode == 0, result.ToString());
    }
}
