using System.Globalization;
using Spectre.Console;
using Wren.Client;

namespace Wren.Cli.Chat;

/// <summary>
/// The interactive chat: pick a conversation, read its recent history, then send lines while new messages, read
/// receipts and typing of the other members appear as they happen. Commands start with a slash (/help).
/// </summary>
internal sealed class ChatLoop(ChatSession session, ChatScreen screen, int historyCount) : IDisposable
{
    private const string Help = "commands: /switch [N|ID|@user] open another conversation · /history [N] show the last N messages · /who members and presence · /quit (or Ctrl+D) · //text sends a line starting with /";

    private readonly List<Task> _sends = [];
    private readonly CancellationTokenSource _ended = new();
    private string? _endReason;
    private bool _choosing;

    /// <summary>Typing notifications are sent only while a conversation is open and not while choosing one.</summary>
    public Task OnTypingAsync(bool active) => _choosing ? Task.CompletedTask : session.SetTypingAsync(active);

    /// <summary>Runs until /quit, end of input, or the session ends; returns the exit code.</summary>
    public async Task<int> RunAsync(IChatInput input, string? openConversation, string? openWith, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _ended.Token);
        var token = linked.Token;
        screen.Print($"[grey]connected as[/] [bold]{Markup.Escape(session.Me.UserName)}[/] [grey](device {session.Me.DeviceId}); /help for commands[/]");
        bool open = openConversation is not null
            ? await TryOpenAsync(openConversation, token).ConfigureAwait(false)
            : openWith is not null
                ? await TryOpenAsync("@" + openWith.TrimStart('@'), token).ConfigureAwait(false)
                : await ChooseAsync(input, token).ConfigureAwait(false);
        if (!open)
        {
            return ExitCodes.Success;
        }

        // The printer ends when the session completes its events (on dispose or when the session ends).
        _ = PrintEventsAsync();
        try
        {
            screen.ShowPrompt();
            while (await input.ReadLineAsync(token).ConfigureAwait(false) is { } line)
            {
                if (!await HandleAsync(input, line, token).ConfigureAwait(false))
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (_ended.IsCancellationRequested || cancellationToken.IsCancellationRequested)
        {
            // The session ended, or Ctrl+C.
        }

        await FinishSendsAsync().ConfigureAwait(false);
        screen.Close();
        if (_endReason is not null)
        {
            throw CliException.Connection("chat ended: " + _endReason);
        }

        return ExitCodes.Success;
    }

    public void Dispose() => _ended.Dispose();

    private async Task<bool> HandleAsync(IChatInput input, string line, CancellationToken cancellationToken)
    {
        string trimmed = line.Trim();
        if (trimmed.Length == 0)
        {
            return true;
        }

        if (trimmed.StartsWith("//", StringComparison.Ordinal) || !trimmed.StartsWith('/'))
        {
            Send(trimmed.StartsWith("//", StringComparison.Ordinal) ? trimmed[1..] : line);
            return true;
        }

        string[] parts = trimmed.Split(' ', 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string argument = parts.Length > 1 ? parts[1] : "";
        switch (parts[0])
        {
            case "/quit" or "/q" or "/exit":
                return false;
            case "/help":
                screen.PrintText(Help);
                return true;
            case "/switch":
                if (argument.Length > 0)
                {
                    await TryOpenAsync(argument, cancellationToken).ConfigureAwait(false);
                    return true;
                }

                // End of input while choosing ends the chat; an empty answer keeps the current conversation.
                return await ChooseAsync(input, cancellationToken, allowStay: true).ConfigureAwait(false);
            case "/history":
                int count = int.TryParse(argument, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? Math.Min(n, 1000) : 20;
                foreach (var message in await session.HistoryAsync(count, cancellationToken).ConfigureAwait(false))
                {
                    screen.Print(Format(message));
                }

                return true;
            case "/who":
                foreach (var (name, role, online) in await session.MembersAsync(cancellationToken).ConfigureAwait(false))
                {
                    screen.Print($"  {(online ? "[green]●[/]" : "[grey]○[/]")} {Markup.Escape(name)} [grey]{role}{(online ? ", online" : "")}[/]");
                }

                return true;
            default:
                screen.PrintText($"unknown command {parts[0]}; {Help}");
                return true;
        }
    }

    private async Task<bool> ChooseAsync(IChatInput input, CancellationToken cancellationToken, bool allowStay = false)
    {
        _choosing = true;
        try
        {
            while (true)
            {
                var list = await session.ListConversationsAsync(cancellationToken).ConfigureAwait(false);
                if (list.Count == 0)
                {
                    screen.PrintText("no conversations yet: type @USER to start a direct conversation (empty line to quit)");
                }
                else
                {
                    screen.Print("[bold]conversations[/]");
                    for (int i = 0; i < list.Count; i++)
                    {
                        var c = list[i];
                        string unread = c.Unread > 0 ? $"  [yellow]{c.Unread} unread[/]" : "";
                        screen.Print($"  [bold]{i + 1}[/]  {Markup.Escape(c.Label)} [grey](id {c.Id}, {c.Members} members, {c.Head} messages)[/]{unread}");
                    }

                    screen.PrintText(allowStay
                        ? "open which? number, conversation id or @USER (empty line to stay)"
                        : "open which? number, conversation id or @USER (empty line to quit)");
                }

                screen.ShowPrompt();
                string? answer = await input.ReadLineAsync(cancellationToken).ConfigureAwait(false);
                if (answer is null)
                {
                    return false;
                }

                answer = answer.Trim();
                if (answer.Length == 0)
                {
                    return allowStay;
                }

                if (answer is "/quit" or "/q" or "/exit")
                {
                    return false;
                }

                if (int.TryParse(answer, NumberStyles.None, CultureInfo.InvariantCulture, out int index) && index >= 1 && index <= list.Count)
                {
                    answer = list[index - 1].Id.ToString(CultureInfo.InvariantCulture);
                }

                if (await TryOpenAsync(answer, cancellationToken).ConfigureAwait(false))
                {
                    return true;
                }
            }
        }
        finally
        {
            _choosing = false;
        }
    }

    private async Task<bool> TryOpenAsync(string choice, CancellationToken cancellationToken)
    {
        try
        {
            var (conversation, recent) = ulong.TryParse(choice, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
                ? await session.OpenAsync(id, historyCount, cancellationToken).ConfigureAwait(false)
                : await session.OpenDirectAsync(choice, historyCount, cancellationToken).ConfigureAwait(false);
            screen.Print($"[bold]── {Markup.Escape(conversation.Label)}[/] [grey](conversation {conversation.Id}, {conversation.Members} members; showing the last {recent.Count} of {Math.Max(conversation.Head, recent.Count == 0 ? 0 : recent[^1].Seq)})[/]");
            foreach (var message in recent)
            {
                screen.Print(Format(message));
            }

            return true;
        }
        catch (CliException ex)
        {
            screen.Print($"[red]{Markup.Escape(ex.Message)}[/]");
            return false;
        }
        catch (WrenClientException ex)
        {
            screen.Print($"[red]{Markup.Escape(Failures.FromOperation(ex).Message)}[/]");
            return false;
        }
    }

    private void Send(string text)
    {
        // Sends run in the background so typing goes on while the broker stores them (or while the SDK reconnects);
        // the message appears when its Deliver arrives. /quit waits for them.
        var send = SendAsync(text);
        lock (_sends)
        {
            _sends.RemoveAll(t => t.IsCompleted);
            _sends.Add(send);
        }
    }

    private async Task SendAsync(string text)
    {
        try
        {
            await session.SendAsync(text, _ended.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WrenClientException or CliException or OperationCanceledException or InvalidOperationException)
        {
            string reason = ex is WrenClientException client ? Failures.FromOperation(client).Message : ex.Message;
            screen.Print($"[red]not sent ({Markup.Escape(reason)}): {Markup.Escape(text)}[/]");
        }
    }

    private async Task FinishSendsAsync()
    {
        Task[] pending;
        lock (_sends)
        {
            pending = [.. _sends];
        }

        if (pending.Length == 0)
        {
            return;
        }

        var all = Task.WhenAll(pending);
        if (await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(10))).ConfigureAwait(false) != all)
        {
            screen.PrintText($"{pending.Count(t => !t.IsCompleted)} message(s) were not confirmed by the broker before quitting");
        }
    }

    private async Task PrintEventsAsync()
    {
        await foreach (var chatEvent in session.Events.ReadAllAsync().ConfigureAwait(false))
        {
            switch (chatEvent)
            {
                case MessageArrived arrived:
                    screen.Print(Format(arrived.Message));
                    break;
                case ReadUpTo read:
                    screen.Print($"[grey]✓ read by {Markup.Escape(read.Reader)}[/]");
                    break;
                case TypingChanged { Active: true } typing:
                    screen.Print($"[grey]… {Markup.Escape(typing.User)} is typing[/]");
                    break;
                case ActivityElsewhere other when other.ConversationId != session.Current?.Id:
                    screen.Print($"[yellow]● new message in {Markup.Escape(other.Label)} from {Markup.Escape(other.Sender)} (/switch {other.ConversationId})[/]");
                    break;
                case PresenceChanged presence:
                    screen.Print($"[grey]{Markup.Escape(presence.User)} is {(presence.Online ? "online" : "offline")}[/]");
                    break;
                case SessionEnded ended:
                    _endReason = ended.Reason;
                    screen.Print($"[red]session ended: {Markup.Escape(ended.Reason)}[/]");
                    try
                    {
                        await _ended.CancelAsync().ConfigureAwait(false);
                    }
                    catch (ObjectDisposedException)
                    {
                        // The chat already finished.
                    }

                    break;
            }
        }
    }

    private static string Format(ChatMessage message)
    {
        string time = DateTimeOffset.FromUnixTimeMilliseconds(message.TimeMs).ToLocalTime().ToString("HH:mm", CultureInfo.InvariantCulture);
        string color = message.Mine ? "green" : "cyan";
        return $"[grey]#{message.Seq} {time}[/] [bold {color}]{Markup.Escape(message.Sender)}[/]: {Markup.Escape(message.Text)}";
    }
}
