using System.ComponentModel;
using Spectre.Console.Cli;

namespace Wren.Cli.Connection;

/// <summary>
/// Where the broker is and who the caller is. Every command that talks to a broker takes these; flags win over
/// environment variables, which win over what a local broker wrote into its data directory.
/// </summary>
internal class ConnectionSettings : CommandSettings
{
    [CommandOption("--server <HOST:PORT>")]
    [Description("Broker address. Default: $WREN_SERVER, else 127.0.0.1:7400.")]
    public string? Server { get; init; }

    [CommandOption("--token <TOKEN>")]
    [Description("Device token. Default: $WREN_TOKEN; admin commands fall back to DATA_DIR/admin.token.")]
    public string? Token { get; init; }

    [CommandOption("--token-file <PATH>")]
    [Description("Read the device token from a file (as written by `wren token issue ... > FILE`).")]
    public string? TokenFile { get; init; }

    [CommandOption("--fingerprint <SHA256>")]
    [Description("SHA-256 fingerprint of the broker certificate to pin (hex, colons optional). Default: $WREN_FINGERPRINT, else computed from DATA_DIR/dev-cert.pfx.")]
    public string? Fingerprint { get; init; }

    [CommandOption("--insecure-plaintext")]
    [Description("Connect without TLS, to a broker started with --plaintext (local testing only).")]
    public bool InsecurePlaintext { get; init; }

    [CommandOption("--data-dir <DIR>")]
    [Description("A local broker's data directory, for admin.token and dev-cert.pfx. Default: ./data when it exists.")]
    public string? DataDirectory { get; init; }

    [CommandOption("--timeout <SECONDS>")]
    [Description("How long to wait for the connection and for each answer. Default 10.")]
    [DefaultValue(10)]
    public int TimeoutSeconds { get; init; } = 10;

    public override Spectre.Console.ValidationResult Validate() =>
        TimeoutSeconds is < 1 or > 3600
            ? Spectre.Console.ValidationResult.Error("--timeout must be between 1 and 3600 seconds")
            : base.Validate();
}

/// <summary>Connection settings plus <c>--json</c>, for list and statistics commands.</summary>
internal class JsonConnectionSettings : ConnectionSettings
{
    [CommandOption("--json")]
    [Description("Print JSON instead of a table.")]
    public bool Json { get; init; }
}
