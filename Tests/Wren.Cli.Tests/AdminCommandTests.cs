using System.Text.Json;

namespace Wren.Cli.Tests;

public class AdminCommandTests
{
    [Fact]
    public async Task User_create_list_disable_and_enable_work_with_the_data_directory_admin_token()
    {
        await using var broker = await CliBroker.StartAsync();

        var created = await broker.RunAsync("user", "create", "alice", "--display-name", "Alice Liddell");
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Contains("created user alice", created.Out);
        Assert.Equal(0, (await broker.RunAsync("user", "create", "bob", "--admin")).ExitCode);

        var list = await broker.RunAsync("user", "list");
        Assert.True(list.ExitCode == 0, list.ToString());
        var lines = list.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("id", lines[0]);
        Assert.DoesNotContain("│", list.Out);
        Assert.Contains(lines, l => l.Contains("alice") && l.Contains("Alice Liddell") && l.Contains("no"));
        Assert.Contains(lines, l => l.Contains("bob") && l.Contains("yes"));

        Assert.Equal(0, (await broker.RunAsync("user", "disable", "alice")).ExitCode);
        var json = await broker.RunAsync("user", "list", "--json");
        using var document = JsonDocument.Parse(json.Out);
        var alice = document.RootElement.EnumerateArray().Single(u => u.GetProperty("name").GetString() == "alice");
        Assert.True(alice.GetProperty("disabled").GetBoolean());
        Assert.Equal("Alice Liddell", alice.GetProperty("display_name").GetString());

        Assert.Equal(0, (await broker.RunAsync("user", "enable", alice.GetProperty("id").GetUInt64().ToString())).ExitCode);
        var after = await broker.RunAsync("user", "list", "--json");
        Assert.DoesNotContain("\"disabled\": true", after.Out);
    }

    [Fact]
    public async Task On_a_terminal_lists_are_drawn_as_tables()
    {
        await using var broker = await CliBroker.StartAsync();
        var output = new ConcurrentWriter();

        int code = await WrenCli.RunAsync(["user", "list", "--server", broker.Address], new CliHost
        {
            Out = output,
            Error = new ConcurrentWriter(),
            OutputIsTerminal = true,
            WorkingDirectory = broker.Root,
            Environment = new Dictionary<string, string> { ["NO_COLOR"] = "1" },
        });

        Assert.Equal(0, code);
        Assert.Contains("│ admin", output.ToString());
        Assert.Contains("╭", output.ToString());
    }

    [Fact]
    public async Task Creating_a_taken_user_name_fails_with_exit_1_and_one_line()
    {
        await using var broker = await CliBroker.StartAsync();
        Assert.Equal(0, (await broker.RunAsync("user", "create", "carol")).ExitCode);

        var again = await broker.RunAsync("user", "create", "carol");

        Assert.Equal(1, again.ExitCode);
        Assert.Equal("wren: conflict: user name taken", again.Err.Trim());
    }

    [Fact]
    public async Task Token_issue_prints_only_the_token_and_the_token_works()
    {
        await using var broker = await CliBroker.StartAsync();
        await broker.RunAsync("user", "create", "dave");

        var issued = await broker.RunAsync("token", "issue", "dave", "--device", "laptop", "--ttl", "30d");

        Assert.True(issued.ExitCode == 0, issued.ToString());
        string token = issued.Out.Trim();
        Assert.StartsWith("wren_", token);
        Assert.DoesNotContain('\n', token);
        Assert.Contains("device 'laptop'", issued.Err);
        Assert.Contains("shown only this once", issued.Err);
        await using var client = await broker.ConnectAsync(token);
        Assert.Equal("dave", client.Session!.UserName);
        Assert.True(client.Session.ExpiresMs > DateTimeOffset.UtcNow.AddDays(29).ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task Token_issue_for_an_unknown_user_says_so()
    {
        await using var broker = await CliBroker.StartAsync();

        var result = await broker.RunAsync("token", "issue", "nobody", "--device", "x");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no user named 'nobody'", result.Err);
    }

    [Fact]
    public async Task Stats_prints_a_table_and_json()
    {
        await using var broker = await CliBroker.StartAsync();
        await broker.RunAsync("user", "create", "erin");

        var table = await broker.RunAsync("stats");
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("users", table.Out);
        Assert.Contains("uptime", table.Out);

        var json = await broker.RunAsync("stats", "--json");
        using var document = JsonDocument.Parse(json.Out);
        Assert.Equal(2, document.RootElement.GetProperty("users").GetInt32());
        Assert.True(document.RootElement.GetProperty("connections").GetInt32() >= 1);
    }

    [Fact]
    public async Task Admin_verbs_with_a_non_admin_token_fail_with_exit_3()
    {
        await using var broker = await CliBroker.StartAsync();
        var frank = await broker.CreateUserAsync("frank");

        var result = await broker.RunAsync("user", "list", "--token", frank.Token);

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("refused administration", result.Err);
    }

    [Theory]
    [InlineData("token", "list")]
    [InlineData("token", "revoke", "alice", "laptop")]
    [InlineData("group", "role", "5", "bob", "admin")]
    [InlineData("user", "role", "bob", "admin")]
    [InlineData("log", "7")]
    public async Task Verbs_the_wire_cannot_do_yet_say_so_and_exit_1(params string[] args)
    {
        var result = await Cli.RunAsync(args);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("not supported by this broker version yet", result.Err);
        Assert.Single(result.Err.Trim().Split('\n'));
    }

    [Fact]
    public async Task Backup_prints_the_procedure()
    {
        var result = await Cli.RunAsync(["backup"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Stop the broker", result.Out);
        Assert.Contains("CheckpointAsync", result.Out);
    }
}
