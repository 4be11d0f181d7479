using System.ComponentModel;
using System.Globalization;
using Spectre.Console.Cli;
using Wren.Cli.Connection;
using Wren.Client;
using Wren.Protocol.Messages;

namespace Wren.Cli.Commands;

/// <summary>An audit event as <c>wren audit --json</c> prints it.</summary>
internal sealed record AuditView(ulong Id, string? Time, string Action, string? Actor, uint ActorDevice, string? Subject, ulong Conversation, string Address, string Detail);

internal sealed class AuditSettings : JsonConnectionSettings
{
    [CommandOption("--user <USER>")]
    [Description("Only events done by or to this user (login name or id).")]
    public string? User { get; init; }

    [CommandOption("--action <ACTION>")]
    [Description("Only events of this action, e.g. LoginFailed, TokenRevoked, RoleChanged, KeyRotated.")]
    public string? Action { get; init; }

    [CommandOption("--since <TIME>")]
    [Description("Only events since TIME: an age (30d, 12h, 45m, 90s) or an ISO 8601 time (2026-01-31T12:00:00Z).")]
    public string? Since { get; init; }

    [CommandOption("--limit <N>")]
    [Description("Most events to print, oldest first. Default 100.")]
    public int Limit { get; init; } = 100;

    public override Spectre.Console.ValidationResult Validate()
    {
        if (Limit <= 0)
        {
            return Spectre.Console.ValidationResult.Error("--limit must be a positive number");
        }

        return Since is not null && ParseSince(Since, DateTimeOffset.UtcNow) is null
            ? Spectre.Console.ValidationResult.Error($"--since '{Since}' is neither an age (30d, 12h, 45m, 90s) nor an ISO 8601 time")
            : base.Validate();
    }

    /// <summary>An age before <paramref name="now"/> or an absolute time; null when the text is neither.</summary>
    public static DateTimeOffset? ParseSince(string text, DateTimeOffset now)
    {
        if (Durations.TryParse(text, out var age))
        {
            return now - age;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : null;
    }
}

/// <summary><c>wren audit [--user U] [--action A] [--since T] [--limit N] [--json]</c>: the audit log, oldest first.</summary>
internal sealed class AuditCommand(CliOutput output) : ConnectedCommand<AuditSettings>(output)
{
    protected override TokenUse TokenUse => TokenUse.Admin;

    protected override async Task<int> RunAsync(WrenClient client, AuditSettings settings, CancellationToken cancellationToken)
    {
        string? userName = settings.User is null ? null : (await Users.ResolveAsync(client, settings.User, cancellationToken).ConfigureAwait(false)).UserName;
        var since = settings.Since is null ? null : AuditSettings.ParseSince(settings.Since, DateTimeOffset.UtcNow);
        var events = new List<AdminAuditEvent>();
        ulong after = 0;
        while (events.Count < settings.Limit)
        {
            uint want = (uint)Math.Min(settings.Limit - events.Count, AdminAuditQuery.MaxPage);
            var page = await client.AdminAuditAsync(after, want, userName, settings.Action, since, cancellationToken).ConfigureAwait(false);
            events.AddRange(page.Items);
            if (!page.More || page.LastId <= after)
            {
                break;
            }

            after = page.LastId;
        }

        var names = await Users.NamesAsync(client, events.SelectMany(e => new[] { e.ActorUserId, e.SubjectUserId }), cancellationToken).ConfigureAwait(false);
        string? Name(ulong id) => id == 0 ? null : names.GetValueOrDefault(id, "#" + id.ToString(CultureInfo.InvariantCulture));
        string ActionOf(AdminAuditEvent e) => e.ActionName.Length > 0 ? e.ActionName : "#" + e.Action.ToString(CultureInfo.InvariantCulture);

        if (settings.Json)
        {
            Output.Json(events.Select(e => new AuditView(e.Id, Users.IsoTime(e.TimeMs), ActionOf(e), Name(e.ActorUserId), e.ActorDeviceId, Name(e.SubjectUserId), e.ConversationId, e.RemoteAddress, e.Detail)));
            return ExitCodes.Success;
        }

        Output.Table(
            ["id", "time (UTC)", "action", "actor", "subject", "conversation", "address", "detail"],
            events.Select(e => (IReadOnlyList<string>)
            [
                e.Id.ToString(CultureInfo.InvariantCulture),
                Users.Time(e.TimeMs),
                ActionOf(e),
                Name(e.ActorUserId) ?? "-",
                Name(e.SubjectUserId) ?? "-",
                e.ConversationId == 0 ? "-" : e.ConversationId.ToString(CultureInfo.InvariantCulture),
                e.RemoteAddress.Length == 0 ? "-" : e.RemoteAddress,
                e.Detail,
            ]));
        return ExitCodes.Success;
    }
}

/// <summary><c>wren tls reload</c>: the broker reads its certificate file again; new connections get the new certificate.</summary>
internal sealed class TlsReloadCommand(CliOutput output) : ConnectedCommand<ConnectionSettings>(output)
{
    protected override TokenUse TokenUse => TokenUse.Admin;

    protected override async Task<int> RunAsync(WrenClient client, ConnectionSettings settings, CancellationToken cancellationToken)
    {
        var certificate = await client.AdminReloadTlsAsync(cancellationToken).ConfigureAwait(false);
        Output.Line($"certificate reloaded: {certificate.Subject}, valid until {Users.Time(certificate.NotAfterMs)} UTC");
        Output.Line($"SHA-256 fingerprint {certificate.Fingerprint} (new connections; live ones keep the old certificate until they reconnect)");
        return ExitCodes.Success;
    }
}

/// <summary><c>wren keys rotate</c>: a new at-rest data key, current for new writes; older entries keep their key.</summary>
internal sealed class KeysRotateCommand(CliOutput output) : ConnectedCommand<JsonConnectionSettings>(output)
{
    protected override TokenUse TokenUse => TokenUse.Admin;

    protected override async Task<int> RunAsync(WrenClient client, JsonConnectionSettings settings, CancellationToken cancellationToken)
    {
        var ring = await client.AdminRotateKeyAsync(cancellationToken).ConfigureAwait(false);
        if (settings.Json)
        {
            Output.Json(new { active = ring.ActiveKeyId, keys = ring.KeyIds });
        }
        else
        {
            Output.Line($"key {ring.ActiveKeyId} is now current for new messages; keys {string.Join(", ", ring.KeyIds)} stay readable");
            Output.Line("back up DATA_DIR/keyring.json now: without it the data directory cannot be read");
        }

        return ExitCodes.Success;
    }
}

/// <summary><c>wren keys status</c>: the at-rest key ids and the current one.</summary>
internal sealed class KeysStatusCommand(CliOutput output) : ConnectedCommand<JsonConnectionSettings>(output)
{
    protected override TokenUse TokenUse => TokenUse.Admin;

    protected override async Task<int> RunAsync(WrenClient client, JsonConnectionSettings settings, CancellationToken cancellationToken)
    {
        var ring = await client.AdminKeyStatusAsync(cancellationToken).ConfigureAwait(false);
        if (settings.Json)
        {
            Output.Json(new { active = ring.ActiveKeyId, keys = ring.KeyIds });
        }
        else if (ring.ActiveKeyId == 0)
        {
            Output.Line("at-rest encryption is off: message bodies are stored in plaintext (`wren keys rotate` turns it on for new messages)");
        }
        else
        {
            Output.Line($"current key {ring.ActiveKeyId}; readable keys {string.Join(", ", ring.KeyIds)}");
        }

        return ExitCodes.Success;
    }
}
