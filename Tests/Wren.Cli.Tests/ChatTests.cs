using System.Text;
using Wren.Cli.Chat;
using Wren.Client;
using Wren.Protocol;
using Wren.Protocol.Messages;

namespace Wren.Cli.Tests;

public class ChatTests
{
    [Fact]
    public async Task Session_shows_history_once_then_live_messages_receipts_and_typing()
    {
        await using var broker = await CliBroker.StartAsync();
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");
        await using var bobClient = await broker.ConnectAsync(bob.Token);
        var direct = await bobClient.OpenDirectAsync(alice.User.UserId);
        await bobClient.SendAsync(direct.ConversationId, Encoding.UTF8.GetBytes("earlier"));

        await using var chat = ChatSession.Start(await broker.ConnectAsync(alice.Token));
        var list = await chat.ListConversationsAsync(default);
        var listed = Assert.Single(list);
        Assert.Equal("@bob", listed.Label);
        Assert.Equal(1ul, listed.Unread);

        var (conversation, recent) = await chat.OpenAsync(direct.ConversationId, 20, default);
        Assert.Equal("@bob", conversation.Label);
        Assert.Equal(["earlier"], recent.Select(m => m.Text));
        Assert.Equal(0ul, (await chat.ListConversationsAsync(default)).Single().Unread);

        await bobClient.SendAsync(direct.ConversationId, Encoding.UTF8.GetBytes("live"));
        var arrived = await NextAsync<MessageArrived>(chat);
        Assert.Equal(("bob", "live", 2ul, false), (arrived.Message.Sender, arrived.Message.Text, arrived.Message.Seq, arrived.Message.Mine));

        await chat.SendAsync("hello bob", default);
        var mine = await NextAsync<MessageArrived>(chat);
        Assert.Equal(("alice", "hello bob", true), (mine.Message.Sender, mine.Message.Text, mine.Message.Mine));

        await bobClient.MarkReadAsync(direct.ConversationId, mine.Message.Seq);
        var read = await NextAsync<ReadUpTo>(chat);
        Assert.Equal(("bob", mine.Message.Seq), (read.Reader, read.Seq));

        await bobClient.TypingAsync(direct.ConversationId, true);
        var typing = await NextAsync<TypingChanged>(chat);
        Assert.Equal(("bob", true), (typing.User, typing.Active));

        // Alice's typing reaches Bob; the message she sent was marked read by her chat.
        await chat.SetTypingAsync(true);
        var relayed = await NextEventAsync<Typing>(bobClient);
        Assert.Equal(alice.User.UserId, relayed.UserId);
    }

    [Fact]
    public async Task Messages_arriving_while_a_conversation_opens_are_shown_once_in_order()
    {
        await using var broker = await CliBroker.StartAsync();
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");
        await using var bobClient = await broker.ConnectAsync(bob.Token);
        var direct = await bobClient.OpenDirectAsync(alice.User.UserId);
        await using var chat = ChatSession.Start(await broker.ConnectAsync(alice.Token));

        var sending = Task.Run(async () =>
        {
            for (int i = 1; i <= 60; i++)
            {
                await bobClient.SendAsync(direct.ConversationId, Encoding.UTF8.GetBytes($"m{i}"));
            }
        });
        var (_, recent) = await chat.OpenAsync(direct.ConversationId, 10, default);
        await sending;

        var seen = recent.Select(m => m.Seq).ToList();
        while (seen.Count == 0 || seen[^1] < 60)
        {
            seen.Add((await NextAsync<MessageArrived>(chat)).Message.Seq);
        }

        Assert.Equal(seen.Distinct().Order(), seen);
        Assert.Equal(Enumerable.Range((int)seen[0], seen.Count).Select(i => (ulong)i), seen);
    }

    [Fact]
    public async Task Chat_command_with_scripted_input_lists_opens_receives_sends_and_quits()
    {
        await using var broker = await CliBroker.StartAsync();
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");
        await using var bobClient = await broker.ConnectAsync(bob.Token);
        var direct = await bobClient.OpenDirectAsync(alice.User.UserId);
        await bobClient.SendAsync(direct.ConversationId, Encoding.UTF8.GetBytes("are you there?"));
        var input = new ScriptedInput();
        var output = new ConcurrentWriter();

        var chat = broker.RunWithAsync(input, null, output, default, "chat", "--token", alice.Token);
        await Eventually.ContainsAsync(output, "open which?");
        Assert.Contains("@bob", output.ToString());
        Assert.Contains("1 unread", output.ToString());

        input.Type("1");
        await Eventually.ContainsAsync(output, "bob: are you there?");

        await bobClient.SendAsync(direct.ConversationId, Encoding.UTF8.GetBytes("hello from bob"));
        await Eventually.ContainsAsync(output, "bob: hello from bob");

        input.Type("yes, here");
        var delivered = await NextEventAsync<Deliver>(bobClient, d => d.SenderUserId == alice.User.UserId);
        Assert.Equal("yes, here", Encoding.UTF8.GetString(delivered.Body));
        await Eventually.ContainsAsync(output, "alice: yes, here");

        await bobClient.MarkReadAsync(direct.ConversationId, delivered.Seq);
        await Eventually.ContainsAsync(output, "✓ read by bob");
        await bobClient.TypingAsync(direct.ConversationId, true);
        await Eventually.ContainsAsync(output, "bob is typing");

        input.Type("/history 2");
        input.Type("/who");
        await Eventually.ContainsAsync(output, "bob member, online");
        input.Type("/quit");
        var result = (await chat.WaitAsync(Eventually.Timeout)).Succeeded();
        Assert.DoesNotContain("\u001b[", result.Out);
    }

    [Fact]
    public async Task Chat_command_reads_redirected_stdin_and_delivers_every_line_before_quitting()
    {
        await using var broker = await CliBroker.StartAsync();
        var alice = await broker.CreateUserAsync("alice");
        var bob = await broker.CreateUserAsync("bob");

        var result = await broker.RunWithAsync(new StringReader("first\nsecond\n//slash\n"), null, "chat", "--with", "bob", "--token", alice.Token);

        result.Succeeded();
        Assert.Contains("── @bob", result.Out);
        await using var bobClient = await broker.ConnectAsync(bob.Token);
        var texts = (await bobClient.HistoryAsync(1)).Messages.Select(m => Encoding.UTF8.GetString(m.Body));
        Assert.Equal(["first", "second", "/slash"], texts);
    }

    [Fact]
    public async Task Chat_with_no_conversations_and_end_of_input_exits_0()
    {
        await using var broker = await CliBroker.StartAsync();
        var alice = await broker.CreateUserAsync("alice");

        var result = await broker.RunWithAsync(new StringReader(""), null, "chat", "--token", alice.Token);

        result.Succeeded();
        Assert.Contains("no conversations yet", result.Out);
    }

    [Fact]
    public async Task Chat_with_an_unknown_user_reports_it_and_keeps_asking()
    {
        await using var broker = await CliBroker.StartAsync();
        var alice = await broker.CreateUserAsync("alice");
        await broker.CreateUserAsync("bob");

        var result = await broker.RunWithAsync(new StringReader("@nobody\n@bob\nhi\n/quit\n"), null, "chat", "--token", alice.Token);

        result.Succeeded();
        Assert.Contains("no user named 'nobody'", result.Out);
        Assert.Contains("── @bob", result.Out);
    }

    private static async Task<T> NextAsync<T>(ChatSession chat)
        where T : ChatEvent
    {
        using var timeout = new CancellationTokenSource(Eventually.Timeout);
        while (true)
        {
            if (await chat.Events.ReadAsync(timeout.Token) is T match)
            {
                return match;
            }
        }
    }

    private static async Task<T> NextEventAsync<T>(WrenClient client, Func<T, bool>? predicate = null)
        where T : IMessage
    {
        using var timeout = new CancellationTokenSource(Eventually.Timeout);
        while (true)
        {
            if (await client.Events.ReadAsync(timeout.Token) is T match && (predicate is null || predicate(match)))
            {
                return match;
            }
        }
    }
}
