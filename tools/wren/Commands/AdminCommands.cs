using System.ComponentModel;
using System.Globalization;
using Spectre.Console.Cli;
using Wren.Cli.Connection;
using Wren.Client;
using Wren.Protocol.Messages;

namespace Wren.Cli.Commands;

/// <summary>A user as the admin commands print it in JSON.</summary>
internal sealed record UserView(ulong Id, string Name, string DisplayName, bool Admin, bool Disabled, string? Created)
{
    public static UserView From(AdminUser user) => new(user.UserId, user.UserName, user.DisplayName, user.IsAdmin, user.Disabled, Users.IsoTime(user.CreatedMs));
}

internal sealed class UserCreateSettings : JsonConnectionSettings
{
    [CommandArgument(0, "<NAME>")]
    [Description("Login name (unique, up to 256 bytes).")]
    public string Name { get; init; } = "";

    [CommandOption("--display-name <TEXT>")]
    [Description("Name shown to others. Default: the login name.")]
    public string? DisplayName { get; init; }

    [CommandOption("--admin")]
    [Description("Make the user a server-wide administrator.")]
    public bool Admin { get; init; }
}

/// <summary><c>wren user create NAME [--display-name X] [--admin]</c>.</summary>
internal sealed class UserCreateCommand(CliOutput output) : ConnectedCommand<UserCreateSettings>(output)
{
    protected override TokenUse TokenUse => TokenUse.Admin;

    protected override async Task<int> RunAsync(WrenClient client, UserCreateSettings settings, CancellationToken cancellationToken)
    {
        var user = await client.AdminCreateUserAsync(settings.Name, settings.DisplayName, settings.Admin, cancellationToken).ConfigureAwait(false);
        if (settings.Json)
        {
            Output.Json(UserView.From(user));
        }
        else
        {
            Output.Markup($"created user [bold]{Spectre.Console.Markup.Escape(user.UserName)}[/] (id {user.UserId}){(user.IsAdmin ? ", administrator" : "")}");
        }

        return ExitCodes.Success;
    }
}

/// <summary><c>wren user list [--json]</c>: every user, paging through the broker's list.</summary>
internal sealed class UserListCommand(CliOutput output) : ConnectedCommand<JsonConnectionSettings>(output)
{
    protected override TokenUse TokenUse => TokenUse.Admin;

    protected override async Task<int> RunAsync(WrenClient client, JsonConnectionSettings settings, CancellationToken cancellationToken)
    {
        var users = new List<AdminUser>();
        ulong after = 0;
        while (true)
        {
            var page = await client.AdminListUsersAsync(after, 0, cancellationToken).ConfigureAwait(false);
            users.AddRange(page.Items);
            if (!page.More || page.Items.Length == 0)
            {
                break;
            }

            after = page.Items[^1].UserId;
        }

        if (settings.Json)
        {
            Output.Json(users.Select(UserView.From));
            return ExitCodes.Success;
        }

        Output.Table(
            ["id", "name", "display name", "admin", "disabled", "created (UTC)"],
            users.Select(u => (IReadOnlyList<string>)[u.UserId.ToString(CultureInfo.InvariantCulture), u.UserName, u.DisplayName, u.IsAdmin ? "yes" : "no", u.Disabled ? "yes" : "no", Users.Time(u.CreatedMs)]));
        return ExitCodes.Success;
    }
}

internal sealed class UserRefSettings : ConnectionSettings
{
    [CommandArgument(0, "<USER>")]
    [Description("Login name or user id.")]
    public string User { get; init; } = "";
}

/// <summary><c>wren user disable USER</c> and <c>wren user enable USER</c>.</summary>
internal abstract class UserSetDisabledCommand(CliOutput output, bool disabled) : ConnectedCommand<UserRefSettings>(output)
{
    protected override TokenUse TokenUse => TokenUse.Admin;

    protected override async Task<int> RunAsync(WrenClient client, UserRefSettings settings, CancellationToken cancellationToken)
    {
        var user = await Users.ResolveAsync(client, settings.User, cancellationToken).ConfigureAwait(false);
        await client.AdminSetDisabledAsync(user.UserId, disabled, cancellationToken).ConfigureAwait(false);
        Output.Line(disabled
            ? $"disabled user {user.UserName} (id {user.UserId}): its sessions are closed and its tokens refused until enabled"
            : $"enabled user {user.UserName} (id {user.UserId})");
        return ExitCodes.Success;
    }
}

/// <summary><c>wren user disable USER</c>.</summary>
internal sealed class UserDisableCommand(CliOutput output) : UserSetDisabledCommand(output, disabled: true);

/// <summary><c>wren user enable USER</c>.</summary>
internal sealed class UserEnableCommand(CliOutput output) : UserSetDisabledCommand(output, disabled: false);

internal sealed class TokenIssueSettings : JsonConnectionSettings
{
    [CommandArgument(0, "<USER>")]
    [Description("Login name of the user the new device belongs to.")]
    public string User { get; init; } = "";

    [CommandOption("--device <NAME>")]
    [Description("Name of the new device (e.g. laptop, phone). Required.")]
    public string? Device { get; init; }

    [CommandOption("--out <FILE>")]
    [Description("Write the token to FILE (created readable by you only) instead of printing it.")]
    public string? Out { get; init; }

    [CommandOption("--ttl <DURATION>")]
    [Description("Token lifetime: 30d, 12h, 45m, 90s or seconds; 0 = no expiry (default).")]
    public string? Ttl { get; init; }

    public override Spectre.Console.ValidationResult Validate()
    {
        if (string.IsNullOrWhiteSpace(Device))
        {
            return Spectre.Console.ValidationResult.Error("--device NAME is required (each token belongs to one device)");
        }

        return Ttl is not null && !Durations.TryParse(Ttl, out _)
            ? Spectre.Console.ValidationResult.Error($"--ttl '{Ttl}' is not a duration; use e.g. 30d, 12h, 45m, 90s")
            : base.Validate();
    }
}

/// <summary><c>wren token issue USER --device NAME [--ttl 30d]</c>: prints the new token once, alone on standard output.</summary>
internal sealed class TokenIssueCommand(CliOutput output) : ConnectedCommand<TokenIssueSettings>(output)
{
    protected override TokenUse TokenUse => TokenUse.Admin;

    protected override async Task<int> RunAsync(WrenClient client, TokenIssueSettings settings, CancellationToken cancellationToken)
    {
        TimeSpan? lifetime = settings.Ttl is null ? null : Durations.Parse(settings.Ttl);
        AdminToken issued;
        try
        {
            issued = await client.AdminIssueTokenAsync(settings.User, settings.Device!, lifetime == TimeSpan.Zero ? null : lifetime, cancellationToken).ConfigureAwait(false);
        }
        catch (WrenClientException ex) when (ex.Code == Wren.Protocol.ErrorCode.NotFound)
        {
            throw new CliException($"no user named '{settings.User}' (create it with `wren user create {settings.User}`)");
        }

        if (settings.Json)
        {
            Output.Json(new { issued.Token, settings.User, issued.UserId, Device = settings.Device, issued.DeviceId, Expires = Users.IsoTime(issued.ExpiresMs) });
            return ExitCodes.Success;
        }

        string about = $"{settings.User}'s device '{settings.Device}' (device id {issued.DeviceId}, expires {Users.Time(issued.ExpiresMs, "never")})";
        if (settings.Out is not null)
        {
            WritePrivate(Host.ResolvePath(settings.Out), issued.Token + "\n");
            Output.Line($"wrote the token of {about} to {settings.Out}, readable by you only");
            return ExitCodes.Success;
        }

        // The token alone on standard output, so `wren token issue alice --device laptop > alice.token` stores it.
        Output.Line(issued.Token);
        Output.Note($"issued the token of {about}; it is shown only this once");
        return ExitCodes.Success;
    }

    private static void WritePrivate(string path, string content)
    {
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var stream = new FileStream(path, options))
            using (var writer = new StreamWriter(stream))
            {
                writer.Write(content);
            }

            if (!OperatingSystem.IsWindows())
            {
                // UnixCreateMode applies only to new files; an existing one is narrowed too.
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot write '{path}': {ex.Message.TrimEnd('.')} (the token was issued; issue another one for a new device)");
        }
    }
}

/// <summary><c>wren stats [--json]</c>: the broker's counters.</summary>
internal sealed class StatsCommand(CliOutput output) : ConnectedCommand<JsonConnectionSettings>(output)
{
    protected override TokenUse TokenUse => TokenUse.Admin;

    protected override async Task<int> RunAsync(WrenClient client, JsonConnectionSettings settings, CancellationToken cancellationToken)
    {
        var stats = await client.AdminStatsAsync(cancellationToken).ConfigureAwait(false);
        if (settings.Json)
        {
            Output.Json(new
            {
                stats.Connections,
                stats.OnlineUsers,
                stats.Users,
                stats.Conversations,
                stats.Messages,
                stats.DiskBytes,
                stats.UptimeMs,
                stats.Delivered,
                ServerVersion = client.Welcome?.ServerVersion,
            });
            return ExitCodes.Success;
        }

        Output.Table(
            ["statistic", "value"],
            [
                ["connections", Users.Count(stats.Connections)],
                ["online users", Users.Count(stats.OnlineUsers)],
                ["users", Users.Count(stats.Users)],
                ["conversations", Users.Count(stats.Conversations)],
                ["messages", Users.Count(stats.Messages)],
                ["live deliveries since start", Users.Count(stats.Delivered)],
                ["storage", Durations.Bytes(stats.DiskBytes)],
                ["uptime", Durations.Format(TimeSpan.FromMilliseconds(stats.UptimeMs))],
                ["server version", client.Welcome?.ServerVersion ?? "?"],
            ]);
        return ExitCodes.Success;
    }
}

internal sealed class TokenListSettings : JsonConnectionSettings
{
    [CommandArgument(0, "<USER>")]
    [Description("Login name of the user.")]
    public string User { get; init; } = "";
}

/// <summary><c>wren token list USER [--json]</c>: the user's tokens by id (a prefix of the stored hash, never the secret).</summary>
internal sealed class TokenListCommand(CliOutput output) : ConnectedCommand<TokenListSettings>(output)
{
    protected override TokenUse TokenUse => TokenUse.Admin;

    protected override async Task<int> RunAsync(WrenClient client, TokenListSettings settings, CancellationToken cancellationToken)
    {
        AdminTokenList list;
        try
        {
            list = await client.AdminListTokensAsync(settings.User, cancellationToken).ConfigureAwait(false);
        }
        catch (WrenClientException ex) when (ex.Code == Wren.Protocol.ErrorCode.NotFound)
        {
            throw new CliException($"no user named '{settings.User}'");
        }

        if (settings.Json)
        {
            Output.Json(list.Items.Select(t => new
            {
                Id = t.TokenId,
                t.DeviceId,
                Device = t.DeviceName,
                Created = Users.IsoTime(t.CreatedMs),
                Expires = Users.IsoTime(t.ExpiresMs),
                t.Revoked,
            }));
            return ExitCodes.Success;
        }

        if (list.Items.Length == 0)
        {
            Output.Note($"{settings.User} has no tokens (issue one with `wren token issue {settings.User} --device NAME`)");
        }

        Output.Table(
            ["token id", "device id", "device", "created (UTC)", "expires (UTC)", "revoked"],
            list.Items.Select(t => (IReadOnlyList<string>)
            [
                t.TokenId,
                t.DeviceId.ToString(CultureInfo.InvariantCulture),
                t.DeviceName,
                Users.Time(t.CreatedMs),
                Users.Time(t.ExpiresMs, "never"),
                t.Revoked ? "yes" : "no",
            ]));
        return ExitCodes.Success;
    }
}

internal sealed class TokenRevokeSettings : ConnectionSettings
{
    [CommandArgument(0, "<USER>")]
    [Description("Login name of the token's user.")]
    public string User { get; init; } = "";

    [CommandArgument(1, "<TOKEN_ID>")]
    [Description("The token's id as `wren token list USER` shows it (16 hex characters).")]
    public string TokenId { get; init; } = "";

    public override Spectre.Console.ValidationResult Validate() =>
        AdminTokenInfo.IsTokenId(TokenId.ToLowerInvariant())
            ? base.Validate()
            : Spectre.Console.ValidationResult.Error($"'{TokenId}' is not a token id (16 hex characters; `wren token list {User}` shows them)");
}

/// <summary><c>wren token revoke USER TOKEN_ID</c>: the token stops authenticating and its device's sessions close.</summary>
internal sealed class TokenRevokeCommand(CliOutput output) : ConnectedCommand<TokenRevokeSettings>(output)
{
    protected override TokenUse TokenUse => TokenUse.Admin;

    protected override async Task<int> RunAsync(WrenClient client, TokenRevokeSettings settings, CancellationToken cancellationToken)
    {
        string id = settings.TokenId.ToLowerInvariant();
        try
        {
            await client.AdminRevokeTokenAsync(settings.User, id, cancellationToken).ConfigureAwait(false);
        }
        catch (WrenClientException ex) when (ex.Code == Wren.Protocol.ErrorCode.NotFound)
        {
            throw new CliException($"not found: {Failures.ServerMessage(ex)} (`wren token list {settings.User}` shows the user's tokens)");
        }

        Output.Line($"revoked token {id} of {settings.User}: it can no longer authenticate, and its device's sessions are closed");
        return ExitCodes.Success;
    }
}

internal sealed class LogSettings : JsonConnectionSettings
{
    [CommandArgument(0, "<CONVERSATION_ID>")]
    [Description("The conversation to inspect (any conversation; `wren conversations --user NAME` lists a user's).")]
    public string Conversation { get; init; } = "";

    [CommandOption("--from <SEQ>")]
    [Description("First seq to print. Default 1.")]
    public ulong? From { get; init; }

    [CommandOption("--count <N>")]
    [Description("Most entries to print. Default 100.")]
    public int? Count { get; init; }

    public override Spectre.Console.ValidationResult Validate() =>
        Count is < 1
            ? Spectre.Console.ValidationResult.Error("--count must be at least 1")
            : base.Validate();
}

/// <summary>
/// <c>wren log CONVERSATION_ID [--from SEQ] [--count N] [--json]</c>: any conversation's log as the administrator sees
/// it, paging through the broker's answers.
/// </summary>
internal sealed class LogCommand(CliOutput output) : ConnectedCommand<LogSettings>(output)
{
    private static readonly System.Text.UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    protected override TokenUse TokenUse => TokenUse.Admin;

    protected override async Task<int> RunAsync(WrenClient client, LogSettings settings, CancellationToken cancellationToken)
    {
        ulong id = Conversations.ParseId(settings.Conversation);
        ulong from = Math.Max(1, settings.From ?? 1);
        int remaining = settings.Count ?? 100;
        var entries = new List<Deliver>();
        AdminLogPage? first = null;
        while (remaining > 0)
        {
            AdminLogPage page;
            try
            {
                page = await client.AdminInspectLogAsync(id, from, (uint)Math.Min(remaining, 1000), cancellationToken).ConfigureAwait(false);
            }
            catch (WrenClientException ex) when (ex.Code == Wren.Protocol.ErrorCode.NotFound)
            {
                throw new CliException($"no conversation {id}");
            }

            first ??= page;
            entries.AddRange(page.Entries.Take(remaining));
            remaining -= Math.Min(remaining, page.Entries.Length);
            if (!page.More || page.Entries.Length == 0)
            {
                break;
            }

            from = page.Entries[^1].Seq + 1;
        }

        var info = first!;
        ulong last = entries.Count > 0 ? entries[^1].Seq : Math.Max(1, settings.From ?? 1) - 1;
        bool more = last < info.Head;
        var names = await Users.NamesAsync(client, entries.Select(e => e.SenderUserId), cancellationToken).ConfigureAwait(false);
        if (settings.Json)
        {
            Output.Json(new
            {
                Conversation = info.ConversationId,
                Kind = info.Kind == ConversationKind.Direct ? "direct" : "group",
                info.Title,
                info.Epoch,
                info.Head,
                Members = info.MemberCount,
                Entries = entries.Select(e =>
                {
                    string? text = Text(e.Body);
                    return new
                    {
                        e.Seq,
                        e.Epoch,
                        SenderId = e.SenderUserId,
                        Sender = names[e.SenderUserId],
                        SenderDevice = e.SenderDeviceId,
                        Time = Users.IsoTime(e.ServerTimeMs),
                        ClientMsgId = e.ClientMsgId,
                        Kind = e.Kind.ToString().ToLowerInvariant(),
                        Text = text,
                        Hex = text is null ? Convert.ToHexStringLower(e.Body) : null,
                    };
                }),
                More = more,
                NextFrom = more ? last + 1 : (ulong?)null,
            });
            return ExitCodes.Success;
        }

        string what = info.Kind == ConversationKind.Direct ? "direct" : $"group '{info.Title}'";
        Output.Line($"conversation {info.ConversationId} ({what}, {info.MemberCount} members): head {info.Head}, epoch {info.Epoch}");
        if (entries.Count == 0)
        {
            Output.Note(info.Head == 0 ? "the conversation has no entries yet" : $"no entries from seq {Math.Max(1, settings.From ?? 1)} (the head is {info.Head})");
        }
        else
        {
            Output.Table(
                ["seq", "sender", "time (UTC)", "client id", "body"],
                entries.Select(e => (IReadOnlyList<string>)
                [
                    e.Seq.ToString(CultureInfo.InvariantCulture),
                    names[e.SenderUserId],
                    Users.Time(e.ServerTimeMs),
                    e.ClientMsgId,
                    Text(e.Body) ?? "hex:" + Convert.ToHexStringLower(e.Body),
                ]));
        }

        if (more)
        {
            Output.Note($"more entries follow: wren log {info.ConversationId} --from {last + 1}");
        }

        return ExitCodes.Success;
    }

    /// <summary>The body as text when it is valid UTF-8, else null.</summary>
    private static string? Text(byte[] body)
    {
        try
        {
            return Strict.GetString(body);
        }
        catch (System.Text.DecoderFallbackException)
        {
            return null;
        }
    }
}

internal sealed class GroupRoleSettings : ConnectionSettings
{
    private static readonly string[] Roles = ["member", "muted", "admin", "owner"];

    [CommandArgument(0, "<GROUP>")]
    [Description("Conversation id of the group.")]
    public string Group { get; init; } = "";

    [CommandArgument(1, "<USER>")]
    [Description("Login name or id of the member.")]
    public string User { get; init; } = "";

    [CommandArgument(2, "<ROLE>")]
    [Description("member, muted (may not send), admin (manages members) or owner.")]
    public string Role { get; init; } = "";

    public MemberRole ParsedRole => (MemberRole)Array.IndexOf(Roles, Role);

    public override Spectre.Console.ValidationResult Validate() =>
        Roles.Contains(Role)
            ? base.Validate()
            : Spectre.Console.ValidationResult.Error($"'{Role}' is not a role; use member, muted, admin or owner");
}

/// <summary><c>wren group role GROUP USER ROLE</c>: an administrator sets any member's role in a group.</summary>
internal sealed class GroupRoleCommand(CliOutput output) : ConnectedCommand<GroupRoleSettings>(output)
{
    protected override TokenUse TokenUse => TokenUse.Admin;

    protected override async Task<int> RunAsync(WrenClient client, GroupRoleSettings settings, CancellationToken cancellationToken)
    {
        ulong group = Conversations.ParseId(settings.Group, "group");
        var user = await Users.ResolveAsync(client, settings.User, cancellationToken).ConfigureAwait(false);
        try
        {
            await client.AdminSetRoleAsync(group, user.UserId, settings.ParsedRole, cancellationToken).ConfigureAwait(false);
        }
        catch (WrenClientException ex) when (ex.Code == Wren.Protocol.ErrorCode.Forbidden)
        {
            // Forbidden is also the answer to a token that may not administer: if statistics are refused too, that is
            // the reason, and the caller reports it as such.
            await client.AdminStatsAsync(cancellationToken).ConfigureAwait(false);
            throw new CliException($"forbidden: {Failures.ServerMessage(ex)}");
        }

        Output.Line($"{user.UserName} is now {settings.Role} in group {group}");
        return ExitCodes.Success;
    }
}
