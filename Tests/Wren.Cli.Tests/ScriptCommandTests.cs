using System.Text;
using System.Text.Json;

namespace Wren.Cli.Tests;

public class ScriptCommandTests
{
    [Fact]
    public async Task Send_then_tail_and_conversations_show_the_message_and_unread_counts()
    {
        await using var broker = await CliBroker.StartAsync();
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");

        var sent = (await broker.RunAsync("send", "--to", "bob", "hello bob", "--token", alice.Token)).Succeeded();
        Assert.Matches(@"^sent to @bob \(conversation \d+\): seq 1\s*$", sent.Out);
        (await broker.RunAsync("send", "--to", "bob", "are you there?", "--token", alice.Token)).Succeeded();

        var tail = (await broker.RunAsync("tail", "--token", bob.Token)).Succeeded();
        var lines = tail.Out.Trim().Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.EndsWith("@alice  #1  alice: hello bob", lines[0]);
        Assert.EndsWith("@alice  #2  alice: are you there?", lines[1]);

        var conversations = (await broker.RunAsync("conversations", "--token", bob.Token)).Succeeded();
        var row = conversations.Out.Split('\n').Single(l => l.Contains("@alice"));
        Assert.Matches(@"direct\s+@alice\s+2\s+2\s+2\s+member", row);

        var json = (await broker.RunAsync("conversations", "--json", "--token", bob.Token)).Succeeded();
        using var document = JsonDocument.Parse(json.Out);
        var item = Assert.Single(document.RootElement.EnumerateArray());
        Assert.Equal("alice", item.GetProperty("peer").GetString());
        Assert.Equal(2, item.GetProperty("unread").GetInt32());
    }

    /// <summary>
    /// Regression: OpenDirect on an existing direct conversation moves both users' read (and delivered) cursors to the
    /// head, so a second `wren send --to` silently marked the peer's unread messages read. The CLI finds the existing
    /// conversation instead.
    /// </summary>
    [Fact]
    public async Task Sending_again_to_the_same_user_does_not_mark_their_unread_messages_read()
    {
        await using var broker = await CliBroker.StartAsync();
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");

        (await broker.RunAsync("send", "--to", "bob", "one", "--token", alice.Token)).Succeeded();
        (await broker.RunAsync("send", "--to", "bob", "two", "--token", alice.Token)).Succeeded();
        (await broker.RunAsync("send", "--to", "bob", "three", "--token", alice.Token)).Succeeded();

        var json = (await broker.RunAsync("conversations", "--json", "--token", bob.Token)).Succeeded();
        using var document = JsonDocument.Parse(json.Out);
        Assert.Equal(3, document.RootElement[0].GetProperty("unread").GetInt32());
    }

    [Fact]
    public async Task Send_reads_one_message_per_line_from_stdin_and_client_id_makes_it_idempotent()
    {
        await using var broker = await CliBroker.StartAsync();
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");

        var piped = (await broker.RunWithAsync(new StringReader("first line\n\nsecond line\n"), null, "send", "--to", "bob", "--token", alice.Token)).Succeeded();
        Assert.Equal(2, piped.Out.Trim().Split('\n').Length);

        var once = (await broker.RunAsync("send", "--to", "bob", "exactly once", "--client-id", "order-42", "--json", "--token", alice.Token)).Succeeded();
        var twice = (await broker.RunAsync("send", "--to", "bob", "exactly once", "--client-id", "order-42", "--json", "--token", alice.Token)).Succeeded();
        using var first = JsonDocument.Parse(once.Out);
        using var second = JsonDocument.Parse(twice.Out);
        Assert.False(first.RootElement.GetProperty("duplicate").GetBoolean());
        Assert.True(second.RootElement.GetProperty("duplicate").GetBoolean());
        Assert.Equal(first.RootElement.GetProperty("seq").GetInt32(), second.RootElement.GetProperty("seq").GetInt32());

        var tail = (await broker.RunAsync("tail", "--json", "--token", bob.Token)).Succeeded();
        var texts = tail.Out.Trim().Split('\n').Select(l => JsonDocument.Parse(l).RootElement.GetProperty("text").GetString()).ToList();
        Assert.Equal(["first line", "second line", "exactly once"], texts);
    }

    [Fact]
    public async Task Tail_of_one_conversation_honours_count()
    {
        await using var broker = await CliBroker.StartAsync();
        var alice = await broker.CreateUserAsync("alice");
        await broker.CreateUserAsync("bob");
        var input = string.Concat(Enumerable.Range(1, 150).Select(i => $"message {i}\n"));
        (await broker.RunWithAsync(new StringReader(input), null, "send", "--to", "bob", "--token", alice.Token)).Succeeded();

        var tail = (await broker.RunAsync("tail", "--conversation", "1", "--count", "120", "--token", alice.Token)).Succeeded();

        var lines = tail.Out.Trim().Split('\n');
        Assert.Equal(120, lines.Length);
        Assert.EndsWith("#31  alice: message 31", lines[0]);
        Assert.EndsWith("#150  alice: message 150", lines[^1]);
        Assert.Contains("epoch 1, 150 messages", tail.Err);
    }

    [Fact]
    public async Task Tail_follow_prints_new_messages_as_they_arrive()
    {
        await using var broker = await CliBroker.StartAsync();
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");
        (await broker.RunAsync("send", "--to", "bob", "before", "--token", alice.Token)).Succeeded();
        var output = new ConcurrentWriter();

        var follow = broker.RunWithAsync(null, null, output, default, "tail", "--follow", "--max", "2", "--json", "--token", bob.Token);
        await Eventually.ContainsAsync(output, "\"text\":\"before\"");
        (await broker.RunAsync("send", "--to", "bob", "live one", "--token", alice.Token)).Succeeded();
        (await broker.RunAsync("send", "--to", "bob", "live two", "--token", alice.Token)).Succeeded();
        var result = (await follow.WaitAsync(Eventually.Timeout)).Succeeded();

        var texts = result.Out.Trim().Split('\n').Select(l => JsonDocument.Parse(l).RootElement.GetProperty("text").GetString()).ToList();
        Assert.Equal(["before", "live one", "live two"], texts);
    }

    [Fact]
    public async Task Tail_follow_stops_cleanly_on_cancellation()
    {
        await using var broker = await CliBroker.StartAsync();
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");
        (await broker.RunAsync("send", "--to", "bob", "printed before following", "--token", alice.Token)).Succeeded();
        using var cancel = new CancellationTokenSource();
        var output = new ConcurrentWriter();

        var follow = broker.RunWithAsync(null, null, output, cancel.Token, "tail", "--follow", "--token", bob.Token);
        await Eventually.ContainsAsync(output, "printed before following");
        await cancel.CancelAsync();

        (await follow.WaitAsync(Eventually.Timeout)).Succeeded();
    }

    [Fact]
    public async Task Group_create_add_members_and_remove_run_as_the_token_user()
    {
        await using var broker = await CliBroker.StartAsync();
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");
        await broker.CreateUserAsync("carol");

        var created = (await broker.RunAsync("group", "create", "team", "--member", "bob", "--json", "--token", alice.Token)).Succeeded();
        using var group = JsonDocument.Parse(created.Out);
        string id = group.RootElement.GetProperty("id").GetUInt64().ToString();
        Assert.Equal("alice", group.RootElement.GetProperty("owner").GetString());

        (await broker.RunAsync("group", "add", id, "carol", "--token", alice.Token)).Succeeded();
        var members = (await broker.RunAsync("group", "members", id, "--token", alice.Token)).Succeeded();
        Assert.Matches(@"alice\s+owner\s+yes", members.Out);
        Assert.Matches(@"bob\s+member", members.Out);
        Assert.Matches(@"carol\s+member", members.Out);

        var forbidden = await broker.RunAsync("group", "remove", id, "carol", "--token", bob.Token);
        Assert.Contains("forbidden", forbidden.FailedWith(1));

        (await broker.RunAsync("group", "remove", id, "carol", "--token", alice.Token)).Succeeded();
        var json = (await broker.RunAsync("group", "members", id, "--json", "--token", alice.Token)).Succeeded();
        using var list = JsonDocument.Parse(json.Out);
        Assert.Equal(["alice", "bob"], list.RootElement.EnumerateArray().Select(m => m.GetProperty("name").GetString()));

        await using var client = await broker.ConnectAsync(bob.Token);
        await client.SendAsync(ulong.Parse(id), Encoding.UTF8.GetBytes("hi team"));
        var tail = (await broker.RunAsync("tail", "--conversation", id, "--token", alice.Token)).Succeeded();
        Assert.Contains("bob: hi team", tail.Out);
        Assert.Contains("(team)", tail.Err);
    }
}
