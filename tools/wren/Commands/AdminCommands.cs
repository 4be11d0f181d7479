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
