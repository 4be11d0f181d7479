using System.ComponentModel;
using System.Globalization;
using Spectre.Console.Cli;
using Wren.Cli.Connection;
using Wren.Client;
using Wren.Protocol.Messages;

namespace Wren.Cli.Commands;

internal sealed class SendSettings : JsonConnectionSettings
{
    [CommandArgument(0, "[TEXT]")]
    [Description("The message. Without it, each line of standard input is sent as one message.")]
    public string? Text { get; init; }

    [CommandOption("--to <USER>")]
    [Description("Send in the direct conversation with this user (login name or id); it is created on first use.")]
    public string? To { get; init; }

    [CommandOption("--conversation <ID>")]
    [Description("Send in this conversation (a group or direct conversation id).")]
    public string? Conversation { get; init; }

    [CommandOption("--client-id <ID>")]
    [Description("Idempotency key (1-64 bytes): sending again with the same key stores the message once. Default: a new one.")]
    public string? ClientId { get; init; }

    public override Spectre.Console.ValidationResult Validate()
    {
        if ((To is null) == (Conversation is null))
        {
            return Spectre.Console.ValidationResult.Error("give exactly one of --to USER or --conversation ID");
        }

        if (ClientId is not null && Text is null)
        {
            return Spectre.Console.ValidationResult.Error("--client-id applies to one message given as TEXT, not to lines from standard input");
        }

        return base.Validate();
    }
}

/// <summary><c>wren send --to USER|--conversation ID TEXT</c>: sends and waits until the broker stored it durably.</summary>
internal sealed class SendCommand(CliOutput output) : ConnectedCommand<SendSettings>(output)
{
    protected override TokenUse TokenUse => TokenUse.User;

    protected override async Task<int> RunAsync(WrenClient client, SendSettings settings, CancellationToken cancellationToken)
    {
        ulong conversation;
        string label;
        if (settings.Conversation is not null)
        {
            conversation = Conversations.ParseId(settings.Conversation);
            label = $"conversation {conversation}";
        }
        else
        {
            var peer = await Users.ResolveAsync(client, settings.To!, cancellationToken).ConfigureAwait(false);
            conversation = await Conversations.FindOrOpenDirectAsync(client, peer.UserId, cancellationToken).ConfigureAwait(false);
            label = $"@{peer.UserName} (conversation {conversation})";
        }

        uint maxBody = client.Welcome?.Limits.MaxMessageBodyBytes ?? 65_536;
        if (settings.Text is not null)
        {
            await SendOneAsync(client, conversation, label, settings.Text, settings, maxBody, cancellationToken).ConfigureAwait(false);
            return ExitCodes.Success;
        }

        // Lines are sent as they are read, so `some-producer | wren send --to bob` streams.
        if (Host.InputIsTerminal)
        {
            Output.Note("type one message per line (each is sent on Enter); Ctrl+D ends");
        }

        while (await Host.In.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (line.Length > 0)
            {
                await SendOneAsync(client, conversation, label, line, settings, maxBody, cancellationToken).ConfigureAwait(false);
            }
        }

        return ExitCodes.Success;
    }

    private async Task SendOneAsync(WrenClient client, ulong conversation, string label, string text, SendSettings settings, uint maxBody, CancellationToken cancellationToken)
    {
        var body = MessageText.Encode(text);
        if (body.Length == 0 || body.Length > maxBody)
        {
            throw CliException.Usage($"a message must be 1 to {maxBody} bytes of UTF-8; this one is {body.Length}");
        }

        var ack = await client.SendAsync(conversation, body, settings.ClientId, cancellationToken).ConfigureAwait(false);
        if (settings.Json)
        {
            Output.JsonLine(new { Conversation = ack.ConversationId, ack.Seq, ack.Epoch, Time = Users.IsoTime(ack.ServerTimeMs), ack.Duplicate });
        }
        else
        {
            Output.Line($"sent to {label}: seq {ack.Seq}{(ack.Duplicate ? " (already stored: same --client-id)" : "")}");
        }
    }
}

internal sealed class TailSettings : JsonConnectionSettings
{
    [CommandOption("--conversation <ID>")]
    [Description("Only this conversation. Default: all of the token user's conversations.")]
    public string? Conversation { get; init; }

    [CommandOption("-n|--count <N>")]
    [Description("How many recent messages to print first. Default 20.")]
    [DefaultValue(20)]
    public int Count { get; init; } = 20;

    [CommandOption("-f|--follow")]
    [Description("Keep printing new messages as they arrive, until Ctrl+C.")]
    public bool Follow { get; init; }

    [CommandOption("--max <N>")]
    [Description("With --follow: stop after N new messages.")]
    public int? Max { get; init; }

    public override Spectre.Console.ValidationResult Validate()
    {
        if (Count is < 0 or > 100_000)
        {
            return Spectre.Console.ValidationResult.Error("--count must be between 0 and 100000");
        }

        if (Max is not null && (Max < 1 || !Follow))
        {
            return Spectre.Console.ValidationResult.Error("--max N needs --follow and N >= 1");
        }

        return base.Validate();
    }
}

/// <summary>
/// <c>wren tail [--conversation ID] [--count N] [--follow] [--json]</c>: recent messages, then optionally new ones
/// live. With <c>--json</c> each message is one JSON object per line.
/// </summary>
internal sealed class TailCommand(CliOutput output) : ConnectedCommand<TailSettings>(output)
{
    protected override TokenUse TokenUse => TokenUse.User;

    // Following survives broker restarts: the SDK reconnects and resumes from the seqs this device holds.
    protected override void Configure(TailSettings settings, WrenClientOptions options) => options.AutoReconnect = settings.Follow;

    protected override async Task<int> RunAsync(WrenClient client, TailSettings settings, CancellationToken cancellationToken)
    {
        List<ConversationInfo> conversations;
        if (settings.Conversation is not null)
        {
            ulong id = Conversations.ParseId(settings.Conversation);
            conversations = [.. (await Conversations.ListAllAsync(client, cancellationToken).ConfigureAwait(false)).Where(c => c.ConversationId == id)];
            if (conversations.Count == 0)
            {
                throw new CliException($"not found: conversation {id} does not exist or {client.Session?.UserName} is not a member");
            }
        }
        else
        {
            conversations = await Conversations.ListAllAsync(client, cancellationToken).ConfigureAwait(false);
        }

        var names = await Users.NamesAsync(client, conversations.Select(c => c.PeerUserId).Append(client.Session!.UserId), cancellationToken).ConfigureAwait(false);
        var labels = conversations.ToDictionary(c => c.ConversationId, c => Conversations.Label(c, names));
        var printed = conversations.ToDictionary(c => c.ConversationId, c => c.Head);
        var recent = new List<Deliver>();
        foreach (var conversation in conversations)
        {
            var entries = await RecentMessages.RecentAsync(client, conversation.ConversationId, settings.Count, cancellationToken).ConfigureAwait(false);
            recent.AddRange(entries);
            if (entries.Count > 0)
            {
                printed[conversation.ConversationId] = Math.Max(printed[conversation.ConversationId], entries[^1].Seq);
            }
        }

        if (settings.Conversation is not null && !settings.Json)
        {
            var only = conversations[0];
            Output.Note($"conversation {only.ConversationId} ({labels[only.ConversationId]}): epoch {only.Epoch}, {only.Head} messages, {Conversations.Unread(only)} unread");
        }

        var shown = recent.OrderBy(e => e.ServerTimeMs).ThenBy(e => e.ConversationId).ThenBy(e => e.Seq).TakeLast(settings.Count).ToList();
        await ResolveSendersAsync(client, shown, names, cancellationToken).ConfigureAwait(false);
        foreach (var entry in shown)
        {
            Print(entry, names, labels, settings);
        }

        if (!settings.Follow)
        {
            return ExitCodes.Success;
        }

        return await FollowAsync(client, settings, names, labels, printed, cancellationToken).ConfigureAwait(false);
    }

    private async Task<int> FollowAsync(WrenClient client, TailSettings settings, Dictionary<ulong, string> names, Dictionary<ulong, string> labels, Dictionary<ulong, ulong> printed, CancellationToken cancellationToken)
    {
        int live = 0;
        try
        {
            await foreach (var message in client.Events.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                if (message is not Deliver entry
                    || (settings.Conversation is not null && labels.Count > 0 && !labels.ContainsKey(entry.ConversationId))
                    || (printed.TryGetValue(entry.ConversationId, out var last) && entry.Seq <= last))
                {
                    continue;
                }

                printed[entry.ConversationId] = entry.Seq;
                await ResolveSendersAsync(client, [entry], names, cancellationToken).ConfigureAwait(false);
                if (!labels.ContainsKey(entry.ConversationId))
                {
                    labels[entry.ConversationId] = $"conversation {entry.ConversationId}";
                }

                Print(entry, names, labels, settings);
                if (++live >= settings.Max)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C is how a follow ends.
        }

        return ExitCodes.Success;
    }

    private static async Task ResolveSendersAsync(WrenClient client, IEnumerable<Deliver> entries, Dictionary<ulong, string> names, CancellationToken cancellationToken)
    {
        var missing = entries.Select(e => e.SenderUserId).Where(id => !names.ContainsKey(id)).Distinct().ToList();
        if (missing.Count > 0)
        {
            foreach (var (id, name) in await Users.NamesAsync(client, missing, cancellationToken).ConfigureAwait(false))
            {
                names[id] = name;
            }
        }
    }

    private void Print(Deliver entry, Dictionary<ulong, string> names, Dictionary<ulong, string> labels, TailSettings settings)
    {
        if (settings.Json)
        {
            Output.JsonLine(MessageView.From(entry, names));
            return;
        }

        string where = settings.Conversation is null ? $"{labels.GetValueOrDefault(entry.ConversationId, entry.ConversationId.ToString(CultureInfo.InvariantCulture))}  " : "";
        Output.Line($"{Users.Time(entry.ServerTimeMs)}  {where}#{entry.Seq}  {names.GetValueOrDefault(entry.SenderUserId, "?")}: {MessageText.Decode(entry)}");
    }
}
