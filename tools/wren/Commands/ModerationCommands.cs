using System.ComponentModel;
using System.Globalization;
using System.Text;
using Spectre.Console.Cli;
using Wren.Cli.Connection;
using Wren.Client;
using Wren.Protocol.Messages;

namespace Wren.Cli.Commands;

/// <summary><c>wren group set-role GROUP USER ROLE</c>: a group owner or admin changes a member's role.</summary>
internal sealed class GroupSetRoleCommand(CliOutput output) : ConnectedCommand<GroupRoleSettings>(output)
{
    protected override TokenUse TokenUse => TokenUse.User;

    protected override async Task<int> RunAsync(WrenClient client, GroupRoleSettings settings, CancellationToken cancellationToken)
    {
        ulong group = Conversations.ParseId(settings.Group, "group");
        var user = await Users.ResolveAsync(client, settings.User, cancellationToken).ConfigureAwait(false);
        await client.SetRoleAsync(group, user.UserId, settings.ParsedRole, cancellationToken).ConfigureAwait(false);
        Output.Line($"{user.UserName} is now {settings.Role} in group {group}");
        return ExitCodes.Success;
    }
}

internal sealed class GroupSettingsSettings : JsonConnectionSettings
{
    [CommandArgument(0, "<GROUP>")]
    [Description("Conversation id of the group.")]
    public string Group { get; init; } = "";

    [CommandOption("--title <TEXT>")]
    [Description("New title.")]
    public string? Title { get; init; }

    [CommandOption("--read-only <BOOL>")]
    [Description("true: only admins and owners send (a channel); false: every member but muted ones sends.")]
    public bool? ReadOnly { get; init; }
}

/// <summary><c>wren group settings GROUP [--title T] [--read-only true|false] [--json]</c>: shows or changes a group's settings.</summary>
internal sealed class GroupSettingsCommand(CliOutput output) : ConnectedCommand<GroupSettingsSettings>(output)
{
    protected override TokenUse TokenUse => TokenUse.User;

    protected override async Task<int> RunAsync(WrenClient client, GroupSettingsSettings settings, CancellationToken cancellationToken)
    {
        ulong group = Conversations.ParseId(settings.Group, "group");
        var current = settings.Title is null && settings.ReadOnly is null
            ? await client.GetGroupSettingsAsync(group, cancellationToken).ConfigureAwait(false)
            : await client.UpdateGroupAsync(group, settings.Title, settings.ReadOnly, cancellationToken).ConfigureAwait(false);
        if (settings.Json)
        {
            Output.Json(new { group = current.ConversationId, title = current.Title, readOnly = current.ReadOnly, recallWindowMs = current.RecallWindowMs });
        }
        else
        {
            Output.Line($"group {current.ConversationId}: title \"{current.Title}\", read-only {(current.ReadOnly ? "yes" : "no")}, "
                + $"recall window {(current.RecallWindowMs / 1000.0).ToString("0.###", CultureInfo.InvariantCulture)} s");
        }

        return ExitCodes.Success;
    }
}

internal sealed class GroupLeaveSettings : ConnectionSettings
{
    [CommandArgument(0, "<GROUP>")]
    [Description("Conversation id of the group.")]
    public string Group { get; init; } = "";
}

/// <summary><c>wren group leave GROUP</c>: the token's user leaves a group (its last owner cannot).</summary>
internal sealed class GroupLeaveCommand(CliOutput output) : ConnectedCommand<GroupLeaveSettings>(output)
{
    protected override TokenUse TokenUse => TokenUse.User;

    protected override async Task<int> RunAsync(WrenClient client, GroupLeaveSettings settings, CancellationToken cancellationToken)
    {
        ulong group = Conversations.ParseId(settings.Group, "group");
        await client.LeaveGroupAsync(group, cancellationToken).ConfigureAwait(false);
        Output.Line($"left group {group}");
        return ExitCodes.Success;
    }
}

internal class MessageRefSettings : JsonConnectionSettings
{
    [CommandArgument(0, "<CONVERSATION>")]
    [Description("Conversation id.")]
    public string Conversation { get; init; } = "";

    [CommandArgument(1, "<SEQ>")]
    [Description("Seq of the message.")]
    public ulong Seq { get; init; }

    public override Spectre.Console.ValidationResult Validate() =>
        Seq == 0 ? Spectre.Console.ValidationResult.Error("SEQ must be 1 or more") : base.Validate();
}

internal sealed class MessageEditSettings : MessageRefSettings
{
    [CommandArgument(2, "<TEXT>")]
    [Description("The new text (UTF-8).")]
    public string Text { get; init; } = "";
}

/// <summary>Prints the SendAck of a recall, edit or delete event.</summary>
internal abstract class MessageEventCommand<TSettings>(CliOutput output, string verb) : ConnectedCommand<TSettings>(output)
    where TSettings : MessageRefSettings
{
    protected override TokenUse TokenUse => TokenUse.User;

    protected abstract Task<SendAck> AppendAsync(WrenClient client, ulong conversation, TSettings settings, CancellationToken cancellationToken);

    protected override async Task<int> RunAsync(WrenClient client, TSettings settings, CancellationToken cancellationToken)
    {
        ulong conversation = Conversations.ParseId(settings.Conversation, "conversation");
        var ack = await AppendAsync(client, conversation, settings, cancellationToken).ConfigureAwait(false);
        if (settings.Json)
        {
            Output.Json(new { conversation = ack.ConversationId, target = settings.Seq, seq = ack.Seq, duplicate = ack.Duplicate });
        }
        else
        {
            Output.Line($"{verb} message {settings.Seq} in conversation {conversation} (event seq {ack.Seq})");
        }

        return ExitCodes.Success;
    }
}

/// <summary><c>wren msg recall CONVERSATION SEQ</c>.</summary>
internal sealed class MessageRecallCommand(CliOutput output) : MessageEventCommand<MessageRefSettings>(output, "recalled")
{
    protected override Task<SendAck> AppendAsync(WrenClient client, ulong conversation, MessageRefSettings settings, CancellationToken cancellationToken) =>
        client.RecallAsync(conversation, settings.Seq, cancellationToken: cancellationToken);
}

/// <summary><c>wren msg edit CONVERSATION SEQ TEXT</c>.</summary>
internal sealed class MessageEditCommand(CliOutput output) : MessageEventCommand<MessageEditSettings>(output, "edited")
{
    protected override Task<SendAck> AppendAsync(WrenClient client, ulong conversation, MessageEditSettings settings, CancellationToken cancellationToken) =>
        client.EditAsync(conversation, settings.Seq, Encoding.UTF8.GetBytes(settings.Text), cancellationToken: cancellationToken);
}

/// <summary><c>wren msg delete CONVERSATION SEQ</c>.</summary>
internal sealed class MessageDeleteCommand(CliOutput output) : MessageEventCommand<MessageRefSettings>(output, "deleted")
{
    protected override Task<SendAck> AppendAsync(WrenClient client, ulong conversation, MessageRefSettings settings, CancellationToken cancellationToken) =>
        client.DeleteMessageAsync(conversation, settings.Seq, cancellationToken: cancellationToken);
}

/// <summary><c>wren msg hide CONVERSATION SEQ</c>: delete for me, on all of the user's devices.</summary>
internal sealed class MessageHideCommand(CliOutput output) : ConnectedCommand<MessageRefSettings>(output)
{
    protected override TokenUse TokenUse => TokenUse.User;

    protected override async Task<int> RunAsync(WrenClient client, MessageRefSettings settings, CancellationToken cancellationToken)
    {
        ulong conversation = Conversations.ParseId(settings.Conversation, "conversation");
        await client.DeleteForMeAsync(conversation, [settings.Seq], cancellationToken).ConfigureAwait(false);
        Output.Line($"hid message {settings.Seq} in conversation {conversation} on all your devices");
        return ExitCodes.Success;
    }
}
