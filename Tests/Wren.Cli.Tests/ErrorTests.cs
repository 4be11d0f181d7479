namespace Wren.Cli.Tests;

/// <summary>Every failure is one clear line on stderr with its exit code: 2 arguments, 3 connection/TLS/auth, 1 operation.</summary>
public class ErrorTests
{
    private const string SomeFingerprint = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";

    [Theory]
    [InlineData("bogus")]
    [InlineData("user", "create")]
    [InlineData("user", "list", "--no-such-flag")]
    [InlineData("token", "issue", "alice")]
    [InlineData("token", "issue", "alice", "--device", "d", "--ttl", "soon")]
    [InlineData("send", "hello", "--token", "t")]
    [InlineData("send", "hello", "--to", "bob", "--conversation", "1", "--token", "t")]
    [InlineData("tail", "--max", "3", "--token", "t")]
    [InlineData("chat", "--conversation", "abc", "--token", "t")]
    [InlineData("user", "list", "--timeout", "0")]
    public async Task Bad_arguments_exit_2_with_one_line(params string[] args)
    {
        var result = await Cli.RunAsync(args);

        result.FailedWith(ExitCodes.BadArguments);
    }

    [Fact]
    public async Task A_branch_without_its_command_prints_help_and_exits_2()
    {
        var result = await Cli.RunAsync(["user"]);

        Assert.Equal(ExitCodes.BadArguments, result.ExitCode);
        Assert.Contains("create", result.Out);
    }

    [Fact]
    public async Task Help_exits_0_and_lists_the_commands()
    {
        var result = await Cli.RunAsync(["--help"]);

        result.Succeeded();
        foreach (var command in new[] { "user", "token", "group", "chat", "send", "tail", "conversations", "demo", "doctor", "stats", "backup" })
        {
            Assert.Contains(command, result.Out);
        }
    }

    [Theory]
    [InlineData("--server", "localhost:notaport")]
    [InlineData("--server", "localhost:70000")]
    [InlineData("--fingerprint", "12:34")]
    [InlineData("--token-file", "missing.token")]
    [InlineData("--data-dir", "no-such-dir")]
    public async Task Malformed_connection_settings_exit_2(string flag, string value)
    {
        var result = await Cli.RunAsync(["conversations", flag, value, "--token", "t"]);

        result.FailedWith(ExitCodes.BadArguments);
    }

    [Fact]
    public async Task User_commands_without_a_token_say_how_to_give_one()
    {
        var result = await Cli.RunAsync(["conversations", "--server", "127.0.0.1:1"]);

        Assert.Contains("--token-file", result.FailedWith(ExitCodes.BadArguments));
    }

    [Fact]
    public async Task Broker_down_exits_3_and_suggests_starting_it()
    {
        int port = Cli.ClosedPort();

        var result = await Cli.RunAsync(["user", "list", "--server", $"127.0.0.1:{port}", "--token", "wren_x", "--fingerprint", SomeFingerprint]);

        string line = result.FailedWith(ExitCodes.ConnectionFailed);
        Assert.Contains("connection refused", line);
        Assert.Contains("./run.sh", line);
    }

    [Fact]
    public async Task Broker_down_is_read_from_WREN_SERVER_too()
    {
        int port = Cli.ClosedPort();

        var result = await Cli.RunAsync(["conversations"], new Dictionary<string, string> { ["WREN_SERVER"] = $"127.0.0.1:{port}", ["WREN_TOKEN"] = "wren_x" });

        Assert.Contains($"127.0.0.1:{port}", result.FailedWith(ExitCodes.ConnectionFailed));
    }

    [Fact]
    public async Task Wrong_token_exits_3_and_names_where_the_token_came_from()
    {
        await using var broker = await CliBroker.StartAsync();

        var result = await broker.RunAsync("conversations", "--token", "wren_not-a-real-token");

        string line = result.FailedWith(ExitCodes.ConnectionFailed);
        Assert.Contains("authentication failed", line);
        Assert.Contains("--token", line);
    }

    [Fact]
    public async Task Wrong_pin_exits_3_and_points_at_doctor()
    {
        await using var broker = await CliBroker.StartAsync();

        var result = await broker.RunAsync("user", "list", "--fingerprint", SomeFingerprint);

        string line = result.FailedWith(ExitCodes.ConnectionFailed);
        Assert.Contains("does not match the pinned fingerprint", line);
        Assert.Contains("wren doctor", line);
    }

    [Fact]
    public async Task Unpinned_self_signed_certificate_exits_3_and_says_how_to_pin()
    {
        await using var broker = await CliBroker.StartAsync();

        // Run outside the broker's working directory so data/dev-cert.pfx is not found.
        var result = await Cli.RunAsync(["user", "list", "--server", broker.Address, "--token", broker.AdminToken]);

        Assert.Contains("--fingerprint", result.FailedWith(ExitCodes.ConnectionFailed));
    }

    [Fact]
    public async Task Plaintext_client_against_a_TLS_broker_exits_3_with_a_hint()
    {
        await using var broker = await CliBroker.StartAsync();

        var result = await broker.RunAsync("user", "list", "--insecure-plaintext");

        Assert.Contains("--insecure-plaintext", result.FailedWith(ExitCodes.ConnectionFailed));
    }

    [Fact]
    public async Task TLS_client_against_a_plaintext_broker_exits_3_with_a_hint()
    {
        await using var broker = await CliBroker.StartAsync(o => o.Tls.Enabled = false);

        var tls = await broker.RunAsync("user", "list", "--fingerprint", SomeFingerprint);
        Assert.Contains("--insecure-plaintext", tls.FailedWith(ExitCodes.ConnectionFailed));

        var plain = await broker.RunAsync("user", "list", "--insecure-plaintext");
        plain.Succeeded();
        Assert.Contains("admin", plain.Out);
    }

    [Fact]
    public async Task Operation_failures_exit_1()
    {
        await using var broker = await CliBroker.StartAsync();
        var gina = await broker.CreateUserAsync("gina");

        var unknownUser = await broker.RunAsync("user", "disable", "nobody");
        Assert.Contains("no user named 'nobody'", unknownUser.FailedWith(ExitCodes.OperationFailed));

        var unknownConversation = await broker.RunAsync("send", "--conversation", "999", "hi", "--token", gina.Token);
        Assert.Contains("not found", unknownConversation.FailedWith(ExitCodes.OperationFailed));
    }
}
