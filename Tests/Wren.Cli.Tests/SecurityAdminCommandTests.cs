using System.Text.Json;

namespace Wren.Cli.Tests;

public class SecurityAdminCommandTests
{
    /// <summary>Runs `wren audit ARGS --json` until <paramref name="done"/> holds: the broker records events asynchronously.</summary>
    private static async Task<List<JsonElement>> AuditUntilAsync(CliBroker broker, Func<List<JsonElement>, bool> done, params string[] args)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var result = await broker.RunAsync(["audit", .. args, "--json"]);
            Assert.True(result.ExitCode == 0, result.ToString());
            var events = JsonDocument.Parse(result.Out).RootElement.EnumerateArray().Select(e => e.Clone()).ToList();
            if (done(events))
            {
                return events;
            }

            Assert.True(DateTime.UtcNow < deadline, "timed out; last output:\n" + result.Out);
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Audit_prints_administrator_actions_filtered_by_user_and_action()
    {
        await using var broker = await CliBroker.StartAsync();
        (await broker.RunAsync("user", "create", "alice")).Succeeded();
        (await broker.RunAsync("user", "create", "bob")).Succeeded();
        (await broker.RunAsync("user", "disable", "bob")).Succeeded();

        var disabled = await AuditUntilAsync(broker, e => e.Count == 1, "--action", "UserDisabled");
        Assert.Equal("bob", disabled[0].GetProperty("subject").GetString());
        Assert.Equal("admin", disabled[0].GetProperty("actor").GetString());
        Assert.StartsWith("127.0.0.1", disabled[0].GetProperty("address").GetString());

        var aboutBob = await AuditUntilAsync(broker, e => e.Count >= 2, "--user", "bob");
        Assert.Equal(["UserCreated", "UserDisabled"], aboutBob.Select(e => e.GetProperty("action").GetString()));

        var limited = await AuditUntilAsync(broker, e => e.Count == 1, "--action", "UserCreated", "--limit", "1");
        Assert.Equal("alice", limited[0].GetProperty("subject").GetString());
        Assert.Empty(await AuditUntilAsync(broker, _ => true, "--since", "2099-01-01T00:00:00Z"));

        var table = (await broker.RunAsync("audit", "--user", "bob")).Succeeded();
        Assert.StartsWith("id", table.Out);
        Assert.Contains("UserDisabled", table.Out);

        Assert.Contains("unknown action", (await broker.RunAsync("audit", "--action", "Nonsense")).FailedWith(2));
        Assert.Contains("--since", (await broker.RunAsync("audit", "--since", "yesterday-ish")).FailedWith(2));
    }

    [Fact]
    public async Task Keys_status_and_rotate_and_tls_reload_report_what_the_broker_did()
    {
        await using var broker = await CliBroker.StartAsync();

        Assert.Contains("encryption is off", (await broker.RunAsync("keys", "status")).Succeeded().Out);
        Assert.Contains("key 1 is now current", (await broker.RunAsync("keys", "rotate")).Succeeded().Out);
        Assert.Contains("key 2 is now current", (await broker.RunAsync("keys", "rotate")).Succeeded().Out);
        using (var status = JsonDocument.Parse((await broker.RunAsync("keys", "status", "--json")).Succeeded().Out))
        {
            Assert.Equal(2, status.RootElement.GetProperty("active").GetInt32());
            Assert.Equal([1, 2], status.RootElement.GetProperty("keys").EnumerateArray().Select(k => k.GetInt32()));
        }

        Assert.True(File.Exists(Path.Combine(broker.DataDirectory, "keyring.json")));

        var reload = (await broker.RunAsync("tls", "reload")).Succeeded();
        Assert.Contains(broker.Fingerprint, reload.Out);
    }
}
