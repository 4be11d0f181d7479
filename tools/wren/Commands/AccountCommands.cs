using System.ComponentModel;
using Spectre.Console.Cli;
using Wren.Cli.Connection;
using Wren.Client;

namespace Wren.Cli.Commands;

internal sealed class LoginSettings : ConnectionSettings
{
    [CommandArgument(0, "<USER>")]
    [Description("Login name.")]
    public string User { get; init; } = "";

    [CommandOption("--password <PASSWORD>")]
    [Description("The password. Default: the first line of standard input (safer: not in the process list or shell history).")]
    public string? Password { get; init; }

    [CommandOption("--code <CODE>")]
    [Description("Current 6-digit TOTP code, for accounts with MFA.")]
    public string? Code { get; init; }

    [CommandOption("--oidc-token <JWT>")]
    [Description("Log in with an OpenID Connect token from a configured issuer instead of a password.")]
    public string? OidcToken { get; init; }

    [CommandOption("--device <NAME>")]
    [Description("Name of the new device. Default: wren-cli.")]
    public string? Device { get; init; }

    [CommandOption("--out <FILE>")]
    [Description("Where to write the issued token (readable by you only); the refresh token goes to FILE.refresh. Default: USER.token.")]
    public string? Out { get; init; }
}

/// <summary><c>wren login USER</c>: a password (or OIDC) login that writes the issued device token to a file.</summary>
internal sealed class LoginCommand(CliOutput output) : ConnectedCommand<LoginSettings>(output)
{
    private string? _password;

    protected override TokenUse TokenUse => TokenUse.Optional;

    protected override void Configure(LoginSettings settings, WrenClientOptions options)
    {
        options.Token = "";
        options.DeviceName = settings.Device ?? "wren-cli";
        options.SyncOnConnect = false;
        if (settings.OidcToken is { Length: > 0 } jwt)
        {
            options.OidcToken = jwt;
            return;
        }

        _password = settings.Password ?? Host.In.ReadLine() ?? "";
        if (_password.Length == 0)
        {
            throw CliException.Usage("no password: pass --password or write it on standard input");
        }

        options.UserName = settings.User;
        options.Password = _password;
        options.TotpCode = settings.Code;
    }

    protected override Task<int> RunAsync(WrenClient client, LoginSettings settings, CancellationToken cancellationToken)
    {
        var session = client.Session!;
        string path = Host.ResolvePath(settings.Out ?? settings.User + ".token");
        TokenFiles.Write(path, session.IssuedToken ?? throw CliException.Connection("the broker issued no token"));
        if (!string.IsNullOrEmpty(session.RefreshToken))
        {
            TokenFiles.Write(path + ".refresh", session.RefreshToken);
        }

        string expires = session.ExpiresMs == 0 ? "never" : DateTimeOffset.FromUnixTimeMilliseconds(session.ExpiresMs).ToString("u", System.Globalization.CultureInfo.InvariantCulture);
        Output.Line($"logged in as {session.UserName} (device {session.DeviceId}); token written to {settings.Out ?? settings.User + ".token"} (expires {expires}); use --token-file with other commands");
        return Task.FromResult(ExitCodes.Success);
    }
}

/// <summary><c>wren logout</c>: revokes the device's tokens and deletes the token files.</summary>
internal sealed class LogoutCommand(CliOutput output) : ConnectedCommand<ConnectionSettings>(output)
{
    protected override TokenUse TokenUse => TokenUse.User;

    protected override async Task<int> RunAsync(WrenClient client, ConnectionSettings settings, CancellationToken cancellationToken)
    {
        await client.LogoutAsync(cancellationToken).ConfigureAwait(false);
        if (settings.TokenFile is { } file)
        {
            string path = Host.ResolvePath(file);
            File.Delete(path);
            File.Delete(path + ".refresh");
        }

        Output.Line("logged out: this device's tokens are revoked and its sessions closed");
        return ExitCodes.Success;
    }
}

/// <summary><c>wren refresh</c>: exchanges FILE.refresh for a new pair and rewrites both files.</summary>
internal sealed class RefreshCommand(CliOutput output) : ConnectedCommand<ConnectionSettings>(output)
{
    protected override TokenUse TokenUse => TokenUse.User;

    protected override async Task<int> RunAsync(WrenClient client, ConnectionSettings settings, CancellationToken cancellationToken)
    {
        string file = settings.TokenFile ?? throw CliException.Usage("refresh needs --token-file FILE (written by `wren login`)");
        string path = Host.ResolvePath(file);
        string refreshPath = path + ".refresh";
        if (!File.Exists(refreshPath))
        {
            throw CliException.Usage($"no refresh token beside '{file}' (expected {file}.refresh from `wren login`)");
        }

        var pair = await RefreshWithAsync(client, File.ReadAllText(refreshPath).Trim(), cancellationToken).ConfigureAwait(false);
        TokenFiles.Write(path, pair.AccessToken);
        TokenFiles.Write(refreshPath, pair.RefreshToken);
        Output.Line($"refreshed: new token written to {file}; the old pair no longer works");
        return ExitCodes.Success;
    }

    private static Task<Wren.Protocol.Messages.TokenPair> RefreshWithAsync(WrenClient client, string refreshToken, CancellationToken cancellationToken) =>
        client.RequestAsync<Wren.Protocol.Messages.TokenPair>(new Wren.Protocol.Messages.RefreshSession { RefreshToken = refreshToken }, cancellationToken);
}

internal sealed class PasswdSettings : ConnectionSettings
{
    [CommandOption("--current <PASSWORD>")]
    [Description("Current password. Default: the first line of standard input (empty when none is set yet).")]
    public string? Current { get; init; }

    [CommandOption("--new <PASSWORD>")]
    [Description("New password. Default: the next line of standard input.")]
    public string? New { get; init; }
}

/// <summary><c>wren passwd</c>: changes the token user's own password.</summary>
internal sealed class PasswdCommand(CliOutput output) : ConnectedCommand<PasswdSettings>(output)
{
    protected override TokenUse TokenUse => TokenUse.User;

    protected override async Task<int> RunAsync(WrenClient client, PasswdSettings settings, CancellationToken cancellationToken)
    {
        string current = settings.Current ?? Host.In.ReadLine() ?? "";
        string next = settings.New ?? Host.In.ReadLine() ?? "";
        if (next.Length == 0)
        {
            throw CliException.Usage("no new password: pass --new or write it as the second line of standard input");
        }

        await client.ChangePasswordAsync(current, next, cancellationToken).ConfigureAwait(false);
        Output.Line("password changed");
        return ExitCodes.Success;
    }
}

internal sealed class MfaCodeSettings : ConnectionSettings
{
    [CommandArgument(0, "<CODE>")]
    [Description("Current 6-digit code from the authenticator app.")]
    public string Code { get; init; } = "";
}

/// <summary><c>wren mfa enroll</c>: prints the secret and otpauth:// URI; MFA is on after <c>wren mfa confirm CODE</c>.</summary>
internal sealed class MfaEnrollCommand(CliOutput output) : ConnectedCommand<ConnectionSettings>(output)
{
    protected override TokenUse TokenUse => TokenUse.User;

    protected override async Task<int> RunAsync(WrenClient client, ConnectionSettings settings, CancellationToken cancellationToken)
    {
        var enrollment = await client.TotpEnrollAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        Output.Line($"secret: {enrollment.Secret}");
        Output.Line($"uri:    {enrollment.Uri}");
        Output.Line("add it to an authenticator app, then run `wren mfa confirm CODE` with the code it shows");
        return ExitCodes.Success;
    }
}

/// <summary><c>wren mfa confirm CODE</c>.</summary>
internal sealed class MfaConfirmCommand(CliOutput output) : ConnectedCommand<MfaCodeSettings>(output)
{
    protected override TokenUse TokenUse => TokenUse.User;

    protected override async Task<int> RunAsync(WrenClient client, MfaCodeSettings settings, CancellationToken cancellationToken)
    {
        await client.TotpConfirmAsync(settings.Code, cancellationToken).ConfigureAwait(false);
        Output.Line("MFA is on: password logins now need a code (`wren login USER --code CODE`)");
        return ExitCodes.Success;
    }
}

/// <summary><c>wren mfa disable CODE</c>.</summary>
internal sealed class MfaDisableCommand(CliOutput output) : ConnectedCommand<MfaCodeSettings>(output)
{
    protected override TokenUse TokenUse => TokenUse.User;

    protected override async Task<int> RunAsync(WrenClient client, MfaCodeSettings settings, CancellationToken cancellationToken)
    {
        await client.TotpDisableAsync(settings.Code, cancellationToken).ConfigureAwait(false);
        Output.Line("MFA is off");
        return ExitCodes.Success;
    }
}

internal sealed class UserPasswdSettings : ConnectionSettings
{
    [CommandArgument(0, "<USER>")]
    [Description("Login name.")]
    public string User { get; init; } = "";

    [CommandOption("--password <PASSWORD>")]
    [Description("The new password. Default: the first line of standard input.")]
    public string? Password { get; init; }

    [CommandOption("--disable-mfa")]
    [Description("Also turn the user's TOTP MFA off (a lost authenticator). With no password given, only this.")]
    public bool DisableMfa { get; init; }
}

/// <summary><c>wren user passwd USER</c> (administrators): sets a user's password and/or turns MFA off.</summary>
internal sealed class UserPasswdCommand(CliOutput output) : ConnectedCommand<UserPasswdSettings>(output)
{
    protected override TokenUse TokenUse => TokenUse.Admin;

    protected override async Task<int> RunAsync(WrenClient client, UserPasswdSettings settings, CancellationToken cancellationToken)
    {
        string password = settings.Password ?? (settings.DisableMfa ? "" : Host.In.ReadLine() ?? "");
        if (password.Length == 0 && !settings.DisableMfa)
        {
            throw CliException.Usage("no password: pass --password or write it on standard input");
        }

        await client.AdminSetPasswordAsync(settings.User, password, settings.DisableMfa, cancellationToken).ConfigureAwait(false);
        Output.Line((password.Length > 0 ? $"password set for {settings.User}" : $"no password change for {settings.User}")
            + (settings.DisableMfa ? "; MFA turned off" : ""));
        return ExitCodes.Success;
    }
}

/// <summary>Token files readable by the owner only.</summary>
internal static class TokenFiles
{
    public static void Write(string path, string token)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.WriteLine(token);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
