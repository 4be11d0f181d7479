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
    [InlineData("user", "role", "bob", "admin")]
    public async Task Verbs_the_wire_cannot_do_yet_say_so_and_exit_1(params string[] args)
    {
        var result = await Cli.RunAsync(args);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("not supported by this broker version yet", result.Err);
        Assert.Single(result.Err.Trim().Split('\n'));
    }

    [Fact]
    public async Task Token_list_shows_hash_ids_and_token_revoke_stops_one_device()
    {
        await using var broker = await CliBroker.StartAsync();
        var phone = await broker.CreateUserAsync("alice", "phone");
        var laptop = await broker.AddDeviceAsync("alice", "laptop");

        var table = (await broker.RunAsync("token", "list", "alice")).Succeeded();
        Assert.Contains("phone", table.Out);
        Assert.Contains("laptop", table.Out);
        Assert.Contains("never", table.Out);
        Assert.DoesNotContain(phone.Token, table.Out);
        var json = (await broker.RunAsync("token", "list", "alice", "--json")).Succeeded();
        using var document = JsonDocument.Parse(json.Out);
        var phoneItem = document.RootElement.EnumerateArray().Single(t => t.GetProperty("device").GetString() == "phone");
        string id = phoneItem.GetProperty("id").GetString()!;
        Assert.Equal(16, id.Length);
        Assert.False(phoneItem.GetProperty("revoked").GetBoolean());

        var revoked = (await broker.RunAsync("token", "revoke", "alice", id.ToUpperInvariant())).Succeeded();

        Assert.Contains($"revoked token {id} of alice", revoked.Out);
        var refused = await Assert.ThrowsAsync<Wren.Client.WrenClientException>(() => broker.ConnectAsync(phone.Token));
        Assert.Equal(Wren.Protocol.ErrorCode.AuthFailed, refused.Code);
        await using var stillWorks = await broker.ConnectAsync(laptop.Token);
        Assert.True(stillWorks.IsConnected);
        Assert.Contains("yes", (await broker.RunAsync("token", "list", "alice")).Succeeded().Out);
        Assert.Contains("not found", (await broker.RunAsync("token", "revoke", "alice", "0000000000000000")).FailedWith(ExitCodes.OperationFailed));
        Assert.Contains("not a token id", (await broker.RunAsync("token", "revoke", "alice", "laptop")).FailedWith(ExitCodes.BadArguments));
        Assert.Contains("no user named 'nobody'", (await broker.RunAsync("token", "list", "nobody")).FailedWith(ExitCodes.OperationFailed));
    }

    [Fact]
    public async Task Log_prints_head_epoch_and_entries_as_text_or_hex()
    {
        await using var broker = await CliBroker.StartAsync();
        var alice = await broker.CreateUserAsync("alice");
        await using (var client = await broker.ConnectAsync(alice.Token))
        {
            var group = await client.CreateGroupAsync("team", []);
            Assert.Equal(1ul, group.ConversationId);
            await client.SendAsync(group.ConversationId, System.Text.Encoding.UTF8.GetBytes("hello"), "c-1");
            await client.SendAsync(group.ConversationId, new byte[] { 0xff, 0xfe }, "c-2");
        }

        var table = (await broker.RunAsync("log", "1")).Succeeded();
        Assert.Contains("conversation 1 (group 'team', 1 members): head 2, epoch 1", table.Out);
        Assert.Contains(table.Out.Split('\n'), l => l.Contains("alice") && l.Contains("c-1") && l.Contains("hello"));
        Assert.Contains("hex:fffe", table.Out);
        Assert.DoesNotContain("more entries", table.Err);

        var first = (await broker.RunAsync("log", "1", "--count", "1")).Succeeded();
        Assert.DoesNotContain("c-2", first.Out);
        Assert.Contains("wren log 1 --from 2", first.Err);

        var json = (await broker.RunAsync("log", "1", "--from", "2", "--json")).Succeeded();
        using var document = JsonDocument.Parse(json.Out);
        var root = document.RootElement;
        Assert.Equal(2, root.GetProperty("head").GetInt32());
        Assert.Equal(1, root.GetProperty("epoch").GetInt32());
        Assert.False(root.GetProperty("more").GetBoolean());
        var entry = Assert.Single(root.GetProperty("entries").EnumerateArray());
        Assert.Equal(2, entry.GetProperty("seq").GetInt32());
        Assert.Equal("fffe", entry.GetProperty("hex").GetString());
        Assert.Equal(JsonValueKind.Null, entry.GetProperty("text").ValueKind);

        Assert.Contains("no conversation 99", (await broker.RunAsync("log", "99")).FailedWith(ExitCodes.OperationFailed));
        Assert.Contains("refused administration", (await broker.RunAsync("log", "1", "--token", alice.Token)).FailedWith(ExitCodes.ConnectionFailed));
    }

    [Fact]
    public async Task Conversations_with_user_lists_another_users_conversations_with_an_admin_token()
    {
        await using var broker = await CliBroker.StartAsync();
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");
        await using (var client = await broker.ConnectAsync(alice.Token))
        {
            await client.CreateGroupAsync("team", [bob.User.UserId]);
            await client.OpenDirectAsync(bob.User.UserId);
        }

        var json = (await broker.RunAsync("conversations", "--user", "bob", "--json")).Succeeded();
        using var document = JsonDocument.Parse(json.Out);
        var items = document.RootElement.EnumerateArray().ToList();
        Assert.Equal(2, items.Count);
        Assert.Equal("member", items.Single(c => c.GetProperty("kind").GetString() == "group").GetProperty("role").GetString());
        Assert.Equal("@alice", items.Single(c => c.GetProperty("kind").GetString() == "direct").GetProperty("name").GetString());

        var own = (await broker.RunAsync("conversations", "--token", alice.Token)).Succeeded();
        Assert.Contains("owner", own.Out);
        Assert.Contains("no user named 'nobody'", (await broker.RunAsync("conversations", "--user", "nobody")).FailedWith(ExitCodes.OperationFailed));
        Assert.Contains("refused administration", (await broker.RunAsync("conversations", "--user", "bob", "--token", alice.Token)).FailedWith(ExitCodes.ConnectionFailed));
    }

    [Fact]
    public async Task Group_role_sets_a_members_role_and_reports_refusals_in_one_line()
    {
        await using var broker = await CliBroker.StartAsync();
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");
        await using var client = await broker.ConnectAsync(alice.Token);
        var group = await client.CreateGroupAsync("team", [bob.User.UserId]);
        string id = group.ConversationId.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var set = (await broker.RunAsync("group", "role", id, "bob", "admin")).Succeeded();

        Assert.Contains("bob is now admin in group " + id, set.Out);
        var members = await client.ListMembersAsync(group.ConversationId);
        Assert.Equal(Wren.Protocol.Messages.MemberRole.Admin, members.Members.Single(m => m.UserId == bob.User.UserId).Role);
        Assert.Contains("last owner", (await broker.RunAsync("group", "role", id, "alice", "member")).FailedWith(ExitCodes.OperationFailed));
        Assert.Contains("not a role", (await broker.RunAsync("group", "role", id, "bob", "boss")).FailedWith(ExitCodes.BadArguments));
        Assert.Contains("refused administration", (await broker.RunAsync("group", "role", id, "bob", "member", "--token", alice.Token)).FailedWith(ExitCodes.ConnectionFailed));
    }

    [Fact]
    public async Task Backup_writes_a_checkpoint_and_prints_the_restore_procedure()
    {
        await using var broker = await CliBroker.StartAsync();
        await broker.CreateUserAsync("alice");

        var result = (await broker.RunAsync("backup", "--to", "checkpoint-1")).Succeeded();

        string target = Path.Combine(broker.Root, "checkpoint-1");
        Assert.True(Directory.Exists(target));
        Assert.NotEmpty(Directory.GetFiles(target));
        Assert.Contains("wrote a checkpoint of the broker's store to " + target, result.Out);
        Assert.Contains("Stop the broker", result.Out);
        Assert.Contains($"cp -a {target} data/db", result.Out);
        Assert.Contains("already exists", (await broker.RunAsync("backup", "--to", "checkpoint-1")).FailedWith(ExitCodes.BadArguments));
        Assert.Contains("--to DIR is required", (await Cli.RunAsync(["backup"])).FailedWith(ExitCodes.BadArguments));
    }
}
