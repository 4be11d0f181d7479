using System.ComponentModel;
using Spectre.Console.Cli;
using Wren.Cli.Chat;
using Wren.Cli.Connection;

namespace Wren.Cli.Commands;

internal sealed class ChatSettings : ConnectionSettings
{
    [CommandOption("--conversation <ID>")]
    [Description("Open this conversation right away.")]
    public string? Conversation { get; init; }

    [CommandOption("--with <USER>")]
    [Description("Open the direct conversation with this user right away (created on first use).")]
    public string? With { get; init; }

    [CommandOption("--history <N>")]
    [Description("Messages of history shown when a conversation opens. Default 20.")]
    [DefaultValue(20)]
    public int History { get; init; } = 20;

    public override Spectre.Console.ValidationResult Validate()
    {
        if (Conversation is not null && With is not null)
        {
            return Spectre.Console.ValidationResult.Error("give --conversation or --with, not both");
        }

        if (Conversation is not null && !ulong.TryParse(Conversation, out _))
        {
            return Spectre.Console.ValidationResult.Error($"--conversation '{Conversation}' is not a conversation id");
        }

        return History is < 0 or > 1000 ? Spectre.Console.ValidationResult.Error("--history must be between 0 and 1000") : base.Validate();
    }
}

/// <summary>
/// <c>wren chat</c>: an interactive terminal client for one device (the token's). Keys are read one by one on a
/// terminal (typing notifications, a prompt that survives incoming messages); lines are read otherwise.
/// </summary>
internal sealed class ChatCommand(CliOutput output) : WrenCommand<ChatSettings>(output)
{
    protected override async Task<int> RunAsync(ChatSettings settings, CancellationToken cancellationToken)
    {
        var connection = ConnectionResolver.Resolve(settings, Host, TokenUse.User);

        // A chat is a device: it acknowledges what it shows and reconnects after a broker restart or network drop.
        var client = await CliConnect.ConnectAsync(connection, cancellationToken, options =>
        {
            options.AutoReconnect = true;
            options.AutoAck = true;
        }).ConfigureAwait(false);
        await using var session = ChatSession.Start(client);
        bool interactive = Host.OutputIsTerminal && Host.InputIsTerminal;
        var screen = new ChatScreen(Output, interactive);
        using var loop = new ChatLoop(session, screen, settings.History);
        IChatInput input = interactive ? new KeyInput(screen, loop.OnTypingAsync) : new LineInput(Host.In);
        return await loop.RunAsync(input, settings.Conversation, settings.With, cancellationToken).ConfigureAwait(false);
    }
}
