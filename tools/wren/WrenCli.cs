using Spectre.Console.Cli;
using Wren.Cli.Commands;

namespace Wren.Cli;

/// <summary>
/// The <c>wren</c> command line: administration, chat, scripts, demo and diagnostics, over the wire through the client
/// SDK. <see cref="RunAsync(string[], CliHost)"/> is the whole program; tests call it in-process with captured output.
/// </summary>
/// <remarks>
/// Exit codes: 0 success, 1 operation failed, 2 bad arguments, 3 connection, TLS or authentication failure (see
/// <see cref="ExitCodes"/>). Every failure is one line on standard error; no stack trace reaches the user.
/// </remarks>
public static class WrenCli
{
    /// <summary>Runs one command with the process's standard input, environment and working directory.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error) =>
        RunAsync(args, CliHost.FromProcess(output, error, CancellationToken.None));

    /// <summary>Runs one command against the given host (streams, environment, working directory, cancellation).</summary>
    public static async Task<int> RunAsync(string[] args, CliHost host)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(host);
        var output = new CliOutput(host);
        var registrar = new TypeRegistrar();
        registrar.RegisterInstance(typeof(CliOutput), output);
        var app = new CommandApp(registrar);
        app.Configure(config => Configure(config, output));
        try
        {
            int code = await app.RunAsync(args, host.Cancellation).ConfigureAwait(false);

            // Spectre answers a branch without its sub-command (`wren user`) with help and 1; that is a usage error.
            return code != 0 && !output.CommandStarted ? ExitCodes.BadArguments : code;
        }
        catch (Exception ex)
        {
            var (code, message) = Describe(ex, host.Cancellation);
            host.Error.WriteLine("wren: " + message);
            host.Error.Flush();
            return code;
        }
    }

    private static (int Code, string Message) Describe(Exception exception, CancellationToken cancellation)
    {
        if (cancellation.IsCancellationRequested && exception is OperationCanceledException)
        {
            return (130, "cancelled");
        }

        var inner = exception is CommandRuntimeException { InnerException: { } wrapped } && wrapped is not CommandRuntimeException ? wrapped : exception;
        switch (inner)
        {
            case CommandAppException usage:
                // Parse, template and validation errors: the command line is wrong.
                return (ExitCodes.BadArguments, $"{FirstLine(usage.Message)} (see `wren --help`, or `wren COMMAND --help`)");
            default:
                var failure = Failures.FromOperation(inner);
                return (failure.ExitCode, failure.Message);
        }
    }

    private static string FirstLine(string text)
    {
        string line = text.Split('\n', 2)[0].Trim();
        return line.Length > 0 ? char.ToLowerInvariant(line[0]) + line[1..].TrimEnd('.') : "invalid command line";
    }

    private static void Configure(IConfigurator config, CliOutput output)
    {
        config.SetApplicationName("wren");
        config.SetApplicationVersion(typeof(WrenCli).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");
        config.ConfigureConsole(output.Console);
        config.PropagateExceptions();
        config.UseStrictParsing();
        config.CaseSensitivity(CaseSensitivity.All);

        config.AddBranch("user", user =>
        {
            user.SetDescription("Administer users (admin token).");
            user.AddCommand<UserCreateCommand>("create").WithDescription("Create a user.").WithExample("user", "create", "alice", "--display-name", "Alice");
            user.AddCommand<UserListCommand>("list").WithDescription("List every user.");
            user.AddCommand<UserDisableCommand>("disable").WithDescription("Disable a user: close its sessions and refuse its tokens.");
            user.AddCommand<UserEnableCommand>("enable").WithDescription("Enable a disabled user.");
            user.AddCommand<UserPasswdCommand>("passwd").WithDescription("Set a user's password (from stdin or --password); --disable-mfa turns the user's MFA off.")
                .WithExample("user", "passwd", "alice", "--password", "a-long-password");
            user.AddCommand<NotSupportedCommand>("role").WithDescription("Change a user's server role (not supported by the broker yet).")
                .WithData(new NotSupported("changing a user's server role", "create an administrator with `wren user create NAME --admin`"));
        });
        config.AddBranch("token", token =>
        {
            token.SetDescription("Administer device tokens (admin token).");
            token.AddCommand<TokenIssueCommand>("issue").WithDescription("Issue a token for a new device of a user; prints it once.")
                .WithExample("token", "issue", "alice", "--device", "laptop", "--ttl", "30d");
            token.AddCommand<TokenListCommand>("list").WithDescription("List a user's tokens: id, device, expiry, revoked.")
                .WithExample("token", "list", "alice");
            token.AddCommand<TokenRevokeCommand>("revoke").WithDescription("Revoke one token: it stops authenticating and its device's sessions close.")
                .WithExample("token", "revoke", "alice", "0123456789abcdef");
        });
        config.AddBranch("group", group =>
        {
            group.SetDescription("Create groups and manage members (runs as the user whose token is given).");
            group.AddCommand<GroupCreateCommand>("create").WithDescription("Create a group owned by the token's user.")
                .WithExample("group", "create", "team", "--member", "bob", "--token-file", "alice.token");
            group.AddCommand<GroupAddCommand>("add").WithDescription("Add members to a group.");
            group.AddCommand<GroupRemoveCommand>("remove").WithDescription("Remove members from a group.");
            group.AddCommand<GroupMembersCommand>("members").WithDescription("List a group's members with roles and presence.");
            group.AddCommand<GroupRoleCommand>("role").WithDescription("Set a member's role: member, muted, admin or owner (admin token).")
                .WithExample("group", "role", "5", "bob", "admin");
            group.AddCommand<GroupSetRoleCommand>("set-role").WithDescription("Set a member's role as the group's owner or admin: member, muted, admin or owner.")
                .WithExample("group", "set-role", "5", "bob", "muted", "--token-file", "alice.token");
            group.AddCommand<GroupSettingsCommand>("settings").WithDescription("Show a group's settings; --title and --read-only change them (group owners and admins).")
                .WithExample("group", "settings", "5", "--read-only", "true", "--token-file", "alice.token");
            group.AddCommand<GroupLeaveCommand>("leave").WithDescription("Leave a group (its last owner cannot).");
        });
        config.AddBranch("msg", msg =>
        {
            msg.SetDescription("Recall, edit, delete or hide messages (runs as the user whose token is given).");
            msg.AddCommand<MessageRecallCommand>("recall").WithDescription("Recall a message: your own within the recall window, anyone's as a group admin or owner.")
                .WithExample("msg", "recall", "5", "12", "--token-file", "alice.token");
            msg.AddCommand<MessageEditCommand>("edit").WithDescription("Replace the text of your own message.")
                .WithExample("msg", "edit", "5", "12", "corrected text", "--token-file", "alice.token");
            msg.AddCommand<MessageDeleteCommand>("delete").WithDescription("Delete a message as a group admin or owner.");
            msg.AddCommand<MessageHideCommand>("hide").WithDescription("Delete a message for yourself only, on all your devices.");
        });
        config.AddCommand<LoginCommand>("login").WithDescription("Log in with a password (+ --code with MFA) or --oidc-token; writes the device token to USER.token (or --out).")
            .WithExample("login", "alice", "--code", "123456");
        config.AddCommand<LogoutCommand>("logout").WithDescription("Revoke this device's tokens and delete the token file.").WithExample("logout", "--token-file", "alice.token");
        config.AddCommand<RefreshCommand>("refresh").WithDescription("Exchange FILE.refresh for a new token pair and rewrite both files.").WithExample("refresh", "--token-file", "alice.token");
        config.AddCommand<PasswdCommand>("passwd").WithDescription("Change your own password (current and new from stdin, or --current/--new).");
        config.AddBranch("mfa", mfa =>
        {
            mfa.SetDescription("TOTP multi-factor authentication for the token's user.");
            mfa.AddCommand<MfaEnrollCommand>("enroll").WithDescription("Start enrollment: prints the secret and otpauth:// URI.");
            mfa.AddCommand<MfaConfirmCommand>("confirm").WithDescription("Turn MFA on with a current code.");
            mfa.AddCommand<MfaDisableCommand>("disable").WithDescription("Turn MFA off with a current code.");
        });
        config.AddCommand<ChatCommand>("chat").WithDescription("Chat in the terminal: conversations, history, live messages, receipts and typing.")
            .WithExample("chat", "--token-file", "alice.token");
        config.AddCommand<SendCommand>("send").WithDescription("Send a message (for scripts); waits until it is stored durably.")
            .WithExample("send", "--to", "bob", "hello", "--token-file", "alice.token");
        config.AddCommand<TailCommand>("tail").WithDescription("Print recent messages, and with --follow new ones as they arrive.")
            .WithExample("tail", "--follow", "--token-file", "bob.token");
        config.AddCommand<ConversationsCommand>("conversations").WithDescription("List the token user's conversations with unread counts; --user NAME lists another user's (admin token).");
        config.AddCommand<LogCommand>("log").WithDescription("Inspect any conversation's log as administrator: head, epoch and entries (admin token).")
            .WithExample("log", "7", "--from", "1", "--count", "50");
        config.AddCommand<DemoCommand>("demo").WithDescription("Two users, five devices going offline and back: prove every history is identical and gap-free (admin token).");
        config.AddCommand<DoctorCommand>("doctor").WithDescription("Check connectivity, TLS certificate, clock skew and the token, with what to do about each problem.");
        config.AddCommand<StatsCommand>("stats").WithDescription("Broker statistics (admin token).");
        config.AddCommand<BackupCommand>("backup").WithDescription("Write a consistent checkpoint of the running broker's store into a new directory (admin token).")
            .WithExample("backup", "--to", "/var/backups/wren-2026-01-01");
        config.AddCommand<AuditCommand>("audit").WithDescription("Read the audit log: logins, tokens, roles, administrator actions (admin token).")
            .WithExample("audit", "--user", "bob", "--action", "LoginFailed", "--since", "24h");
        config.AddBranch("tls", tls =>
        {
            tls.SetDescription("The broker's TLS certificate (admin token).");
            tls.AddCommand<TlsReloadCommand>("reload").WithDescription("Reload the certificate file: new connections use it, live ones keep theirs.");
        });
        config.AddBranch("keys", keys =>
        {
            keys.SetDescription("At-rest encryption keys (admin token).");
            keys.AddCommand<KeysRotateCommand>("rotate").WithDescription("Generate a new data key and make it current for new messages; older ones stay readable.");
            keys.AddCommand<KeysStatusCommand>("status").WithDescription("Show the current key id and every readable key id.");
        });
        config.AddCommand<RestoreCommand>("restore").WithDescription("Print the restore procedure.");
    }
}
