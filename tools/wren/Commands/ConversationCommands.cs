using System.ComponentModel;
using System.Globalization;
using Spectre.Console.Cli;
using Wren.Cli.Connection;
using Wren.Client;
using Wren.Protocol.Messages;

namespace Wren.Cli.Commands;

/// <summary>Listing and naming the caller's conversations.</summary>
internal static class Conversations
{
    /// <summary>Every conversation of the caller, paging through the broker's list.</summary>
    public static async Task<List<ConversationInfo>> ListAllAsync(WrenClient client, CancellationToken cancellationToken)
    {
        var all = new List<ConversationInfo>();
        ulong after = 0;
        while (true)
        {
            var page = await client.ListConversationsAsync(after, 0, cancellationToken).ConfigureAwait(false);
            all.AddRange(page.Items);
            if (!page.More || page.Items.Length == 0)
            {
                return all;
            }

            after = page.Items[^1].ConversationId;
        }
    }

    /// <summary>Every conversation of another user, as that user sees them (administrators only).</summary>
    public static async Task<List<ConversationInfo>> ListAllOfAsync(WrenClient client, string userName, CancellationToken cancellationToken)
    {
        var all = new List<ConversationInfo>();
        ulong after = 0;
        while (true)
        {
            ConversationList page;
            try
            {
                page = await client.AdminListUserConversationsAsync(userName, after, 0, cancellationToken).ConfigureAwait(false);
            }
            catch (WrenClientException ex) when (ex.Code == Wren.Protocol.ErrorCode.NotFound)
            {
                throw new CliException($"no user named '{userName}'");
            }

            all.AddRange(page.Items);
            if (!page.More || page.Items.Length == 0)
            {
                return all;
            }

            after = page.Items[^1].ConversationId;
        }
    }

    /// <summary>
    /// The direct conversation with a user: found in the caller's list when it exists, opened (created) otherwise.
    /// </summary>
    /// <remarks>
    /// OpenDirect on an existing conversation moves both users' read and delivered cursors to the head (the broker
    /// treats it as joining again), so the CLI calls it only to create the conversation.
    /// </remarks>
    public static async Task<ulong> FindOrOpenDirectAsync(WrenClient client, ulong peerUserId, CancellationToken cancellationToken)
    {
        var existing = (await ListAllAsync(client, cancellationToken).ConfigureAwait(false))
            .FirstOrDefault(c => c.Kind == ConversationKind.Direct && c.PeerUserId == peerUserId);
        return existing?.ConversationId
            ?? (await client.OpenDirectAsync(peerUserId, cancellationToken).ConfigureAwait(false)).ConversationId;
    }

    /// <summary>How a conversation is shown: a group's title, or "@peer" for a direct one.</summary>
    public static string Label(ConversationInfo conversation, IReadOnlyDictionary<ulong, string> names) =>
        conversation.Kind == ConversationKind.Direct
            ? "@" + (names.TryGetValue(conversation.PeerUserId, out var peer) ? peer : "#" + conversation.PeerUserId.ToString(CultureInfo.InvariantCulture))
            : conversation.Title.Length > 0 ? conversation.Title : "(untitled group)";

    /// <summary>Entries the caller has not read: head minus the read cursor.</summary>
    public static ulong Unread(ConversationInfo conversation) => conversation.Head > conversation.ReadSeq ? conversation.Head - conversation.ReadSeq : 0;

    public static string Kind(ConversationInfo conversation) => conversation.Kind == ConversationKind.Direct ? "direct" : "group";

    public static string Role(MemberRole role) => role.ToString().ToLowerInvariant();

    /// <summary>Parses a conversation id argument.</summary>
    public static ulong ParseId(string text, string what = "conversation") =>
        ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id != 0
            ? id
            : throw CliException.Usage($"'{text}' is not a {what} id (a positive number; `wren conversations` lists them)");
}

internal sealed class ConversationsSettings : JsonConnectionSettings
{
    [CommandOption("--user <NAME>")]
    [Description("List this user's conversations instead of the token user's (admin token).")]
    public string? User { get; init; }
}

/// <summary>
/// <c>wren conversations [--json]</c>: the caller's conversations with unread counts; with <c>--user NAME</c> (admin
/// token), another user's, as that user sees them.
/// </summary>
internal sealed class ConversationsCommand(CliOutput output) : ConnectedCommand<ConversationsSettings>(output)
{
    protected override TokenUse TokenUse => TokenUse.User;

    protected override TokenUse TokenUseFor(ConversationsSettings settings) => settings.User is null ? TokenUse.User : TokenUse.Admin;

    protected override async Task<int> RunAsync(WrenClient client, ConversationsSettings settings, CancellationToken cancellationToken)
    {
        var list = settings.User is null
            ? await Conversations.ListAllAsync(client, cancellationToken).ConfigureAwait(false)
            : await Conversations.ListAllOfAsync(client, settings.User, cancellationToken).ConfigureAwait(false);
        string owner = settings.User ?? client.Session?.UserName ?? "the user";
        var names = await Users.NamesAsync(client, list.Select(c => c.PeerUserId), cancellationToken).ConfigureAwait(false);
        if (settings.Json)
        {
            Output.Json(list.Select(c => new
            {
                Id = c.ConversationId,
                Kind = Conversations.Kind(c),
                Name = Conversations.Label(c, names),
                Peer = c.Kind == ConversationKind.Direct ? names[c.PeerUserId] : null,
                Members = c.MemberCount,
                c.Epoch,
                c.Head,
                c.ReadSeq,
                Unread = Conversations.Unread(c),
                Role = Conversations.Role(c.MyRole),
                Created = Users.IsoTime(c.CreatedMs),
            }));
            return ExitCodes.Success;
        }

        if (list.Count == 0)
        {
            Output.Note(settings.User is null
                ? $"{owner} has no conversations yet (start one with `wren send --to USER TEXT` or `wren group create TITLE`)"
                : $"{owner} has no conversations");
        }

        Output.Table(
            ["id", "kind", "name", "members", "messages", "unread", "role"],
            list.Select(c => (IReadOnlyList<string>)
            [
                c.ConversationId.ToString(CultureInfo.InvariantCulture),
                Conversations.Kind(c),
                Conversations.Label(c, names),
                c.MemberCount.ToString(CultureInfo.InvariantCulture),
                c.Head.ToString(CultureInfo.InvariantCulture),
                Conversations.Unread(c).ToString(CultureInfo.InvariantCulture),
                Conversations.Role(c.MyRole),
            ]));
        return ExitCodes.Success;
    }
}

internal sealed class GroupCreateSettings : JsonConnectionSettings
{
    [CommandArgument(0, "<TITLE>")]
    [Description("Group title (up to 256 bytes).")]
    public string Title { get; init; } = "";

    [CommandOption("-m|--member <USER>")]
    [Description("Another initial member (login name or id); repeat for more.")]
    public string[] Members { get; init; } = [];
}

/// <summary><c>wren group create TITLE [--member USER]...</c>: runs as the token's user, who becomes the owner.</summary>
internal sealed class GroupCreateCommand(CliOutput output) : ConnectedCommand<GroupCreateSettings>(output)
{
    protected override TokenUse TokenUse => TokenUse.User;

    protected override async Task<int> RunAsync(WrenClient client, GroupCreateSettings settings, CancellationToken cancellationToken)
    {
        var members = settings.Members.Length == 0 ? [] : await Users.ResolveManyAsync(client, settings.Members, cancellationToken).ConfigureAwait(false);
        var group = await client.CreateGroupAsync(settings.Title, members.Select(m => m.UserId).Where(id => id != client.Session!.UserId), cancellationToken).ConfigureAwait(false);
        if (settings.Json)
        {
            Output.Json(new { Id = group.ConversationId, group.Title, Members = group.MemberCount, Owner = client.Session!.UserName });
        }
        else
        {
            Output.Line($"created group '{group.Title}' (conversation {group.ConversationId}) with {group.MemberCount} members, owned by {client.Session!.UserName}");
        }

        return ExitCodes.Success;
    }
}

internal sealed class GroupMembersChangeSettings : ConnectionSettings
{
    [CommandArgument(0, "<GROUP>")]
    [Description("Conversation id of the group.")]
    public string Group { get; init; } = "";

    [CommandArgument(1, "<USER>")]
    [Description("Login names or ids.")]
    public string[] Users { get; init; } = [];
}

/// <summary><c>wren group add GROUP USER...</c> and <c>wren group remove GROUP USER...</c>, as the token's user.</summary>
internal abstract class GroupMembersChangeCommand(CliOutput output, bool add) : ConnectedCommand<GroupMembersChangeSettings>(output)
{
    protected override TokenUse TokenUse => TokenUse.User;

    protected override async Task<int> RunAsync(WrenClient client, GroupMembersChangeSettings settings, CancellationToken cancellationToken)
    {
        ulong group = Conversations.ParseId(settings.Group, "group");
        var users = await Users.ResolveManyAsync(client, settings.Users, cancellationToken).ConfigureAwait(false);
        var ids = users.Select(u => u.UserId).Distinct().ToArray();
        if (add)
        {
            await client.AddMembersAsync(group, ids, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await client.RemoveMembersAsync(group, ids, cancellationToken).ConfigureAwait(false);
        }

        Output.Line($"{(add ? "added" : "removed")} {string.Join(", ", users.Select(u => u.UserName))} {(add ? "to" : "from")} group {group}");
        return ExitCodes.Success;
    }
}

/// <summary><c>wren group add GROUP USER...</c>.</summary>
internal sealed class GroupAddCommand(CliOutput output) : GroupMembersChangeCommand(output, add: true);

/// <summary><c>wren group remove GROUP USER...</c>.</summary>
internal sealed class GroupRemoveCommand(CliOutput output) : GroupMembersChangeCommand(output, add: false);

internal sealed class GroupRefSettings : JsonConnectionSettings
{
    [CommandArgument(0, "<GROUP>")]
    [Description("Conversation id of the group (or of a direct conversation).")]
    public string Group { get; init; } = "";
}

/// <summary><c>wren group members GROUP [--json]</c>.</summary>
internal sealed class GroupMembersCommand(CliOutput output) : ConnectedCommand<GroupRefSettings>(output)
{
    protected override TokenUse TokenUse => TokenUse.User;

    protected override async Task<int> RunAsync(WrenClient client, GroupRefSettings settings, CancellationToken cancellationToken)
    {
        ulong group = Conversations.ParseId(settings.Group, "group");
        var members = new List<MemberInfo>();
        ulong after = 0;
        while (true)
        {
            var page = await client.ListMembersAsync(group, after, 0, cancellationToken).ConfigureAwait(false);
            members.AddRange(page.Members);
            if (!page.More || page.Members.Length == 0)
            {
                break;
            }

            after = page.Members[^1].UserId;
        }

        var names = await Users.NamesAsync(client, members.Select(m => m.UserId), cancellationToken).ConfigureAwait(false);
        var presence = await client.QueryPresenceAsync(members.Select(m => m.UserId).Take(1000), cancellationToken).ConfigureAwait(false);
        var online = presence.Items.Where(p => p.Status == PresenceStatus.Online).Select(p => p.UserId).ToHashSet();
        if (settings.Json)
        {
            Output.Json(members.Select(m => new { Id = m.UserId, Name = names[m.UserId], Role = Conversations.Role(m.Role), Joined = Users.IsoTime(m.JoinedMs), Online = online.Contains(m.UserId) }));
            return ExitCodes.Success;
        }

        Output.Table(
            ["id", "name", "role", "online", "joined (UTC)"],
            members.Select(m => (IReadOnlyList<string>)
            [
                m.UserId.ToString(CultureInfo.InvariantCulture),
                names[m.UserId],
                Conversations.Role(m.Role),
                online.Contains(m.UserId) ? "yes" : "no",
                Users.Time(m.JoinedMs),
            ]));
        return ExitCodes.Success;
    }
}
