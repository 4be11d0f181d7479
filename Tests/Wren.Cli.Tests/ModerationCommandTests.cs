using System.Text;
using System.Text.Json;
using Wren.Protocol.Messages;

namespace Wren.Cli.Tests;

public class ModerationCommandTests
{
    [Fact]
    public async Task Group_owner_sets_roles_and_settings_and_members_recall_edit_hide_and_leave()
    {
        await using var broker = await CliBroker.StartAsync();
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");
        await using var a = await broker.ConnectAsync(alice.Token);
        var group = await a.CreateGroupAsync("team", [bob.User.UserId]);
        string id = group.ConversationId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var sent = await a.SendAsync(group.ConversationId, Encoding.UTF8.GetBytes("helo"));
        string seq = sent.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture);

        Assert.Contains("bob is now admin", (await broker.RunAsync("group", "set-role", id, "bob", "admin", "--token", alice.Token)).Succeeded().Out);
        var settings = (await broker.RunAsync("group", "settings", id, "--title", "news", "--read-only", "true", "--json", "--token", alice.Token)).Succeeded();
        using (var json = JsonDocument.Parse(settings.Out))
        {
            Assert.Equal("news", json.RootElement.GetProperty("title").GetString());
            Assert.True(json.RootElement.GetProperty("read_only").GetBoolean());
        }

        Assert.Contains("edited message", (await broker.RunAsync("msg", "edit", id, seq, "hello", "--token", alice.Token)).Succeeded().Out);
        Assert.Contains("hid message", (await broker.RunAsync("msg", "hide", id, seq, "--token", bob.Token)).Succeeded().Out);
        Assert.Contains("recalled message", (await broker.RunAsync("msg", "recall", id, seq, "--token", alice.Token)).Succeeded().Out);
        var again = await broker.RunAsync("msg", "recall", id, seq, "--token", alice.Token);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("message not found", again.Err);
        var lastOwner = await broker.RunAsync("group", "leave", id, "--token", alice.Token);
        Assert.Equal(1, lastOwner.ExitCode);
        Assert.Contains("last owner", lastOwner.Err);
        Assert.Contains("left group", (await broker.RunAsync("group", "leave", id, "--token", bob.Token)).Succeeded().Out);

        var history = await a.HistoryAsync(group.ConversationId);
        Assert.Equal([EntryKind.Message, EntryKind.Edit, EntryKind.Recall], history.Messages.Select(m => m.Kind));
    }
}
