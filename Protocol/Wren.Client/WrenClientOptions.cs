using Wren.Protocol.Messages;

namespace Wren.Client;

/// <summary>How a <see cref="WrenClient"/> connects and behaves.</summary>
public sealed class WrenClientOptions
{
    /// <summary>Server host name or address.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>Server port. Default 7400.</summary>
    public int Port { get; set; } = 7400;

    /// <summary>Use TLS (default). Plaintext only against a broker started with --plaintext.</summary>
    public bool UseTls { get; set; } = true;

    /// <summary>
    /// SHA-256 fingerprint of the server certificate to pin (hex, colons optional). When set, only that certificate is
    /// accepted; when null, the certificate must chain to a trusted CA and match <see cref="TargetHost"/>.
    /// </summary>
    public string? PinnedFingerprint { get; set; }

    /// <summary>Name checked against the certificate when not pinning. Default: <see cref="Host"/>.</summary>
    public string? TargetHost { get; set; }

    /// <summary>
    /// The device token. When empty, the client logs in with <see cref="RefreshToken"/>, <see cref="OidcToken"/> or
    /// <see cref="UserName"/> and <see cref="Password"/> (in that order of preference) and then sets this to the issued token,
    /// so reconnects use it.
    /// </summary>
    public string Token { get; set; } = "";

    /// <summary>Login name for a password login (when <see cref="Token"/> is empty).</summary>
    public string? UserName { get; set; }

    /// <summary>Password for a password login; cleared once a token was issued.</summary>
    public string? Password { get; set; }

    /// <summary>Current TOTP code, for accounts with MFA; cleared once a token was issued.</summary>
    public string? TotpCode { get; set; }

    /// <summary>An OpenID Connect token (JWT) to log in with; cleared once a token was issued.</summary>
    public string? OidcToken { get; set; }

    /// <summary>The refresh token of the device's current pair (set by logins and <see cref="WrenClient.RefreshAsync"/>).</summary>
    public string? RefreshToken { get; set; }

    /// <summary>Name of the device a password or OIDC login creates. Default: the client name.</summary>
    public string? DeviceName { get; set; }

    /// <summary>Called with each newly issued token pair (login or refresh), so the application can store it.</summary>
    public Action<TokenPair>? TokensIssued { get; set; }

    /// <summary>Client name sent in Hello.</summary>
    public string ClientName { get; set; } = "wren-dotnet";

    /// <summary>How long a request waits for its answer. Default 30 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Reconnect automatically after a lost connection (default true), resending unacknowledged sends.</summary>
    public bool AutoReconnect { get; set; } = true;

    /// <summary>First reconnect delay; doubles per failure up to <see cref="MaxReconnectDelay"/>, with full jitter.</summary>
    public TimeSpan MinReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Largest reconnect delay. Default 10 s.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Most sends waiting for their SendAck at once; further <see cref="WrenClient.SendAsync"/> calls wait for a slot.
    /// Default 1,024: four times what the broker accepts in flight per connection, enough to keep it busy, small enough
    /// that an overloaded client slows its caller down instead of growing an unbounded backlog.
    /// </summary>
    public int MaxPendingSends { get; set; } = 1024;

    /// <summary>Acknowledge deliveries automatically once they are handed to <see cref="WrenClient.Events"/> (default true).</summary>
    public bool AutoAck { get; set; } = true;

    /// <summary>
    /// How long an automatic ack waits before it is written, so that everything delivered meanwhile is acknowledged by
    /// one Ack frame (one per connection and delay, whatever the message rate). Default 100 ms; zero writes one Ack
    /// per socket read.
    /// </summary>
    /// <remarks>
    /// The ack moves the device's delivered position on the server, which a device without a persistent
    /// <see cref="CursorStore"/> resumes from. Waiting positions are written when the client is disposed; after a lost
    /// connection the server may resend up to one delay's worth of messages, which the client's ordering drops as
    /// already seen when its cursor store has them. Delivery to the application is never delayed.
    /// </remarks>
    public TimeSpan AckDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Largest accepted <see cref="AckDelay"/>: one minute (<see cref="WrenClient.ConnectAsync"/> refuses more, or a negative delay).</summary>
    public static readonly TimeSpan MaxAckDelay = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Catch up (SyncAll) on connect and after each reconnect, which also makes the connection receive live pushes
    /// (default true). One-shot tools that only send or query can turn it off.
    /// </summary>
    public bool SyncOnConnect { get; set; } = true;

    /// <summary>
    /// Whether <see cref="WrenClient.ConnectAsync"/> returns only once the first catch-up has completed (default true).
    /// When false, it returns as soon as the client is authenticated and the catch-up runs in the background: the
    /// missed messages can be read from <see cref="WrenClient.Events"/> while they arrive, and
    /// <see cref="WrenClient.ConnectionChanged"/> is raised with true when the catch-up has completed.
    /// </summary>
    /// <remarks>
    /// Ordering, deduplication and gap filling are the same either way. A background catch-up that fails (connection
    /// lost, request timeout) closes the connection, so the client reconnects and catches up again (or, without
    /// <see cref="AutoReconnect"/>, ends <see cref="WrenClient.Events"/> with the error). A device with a long history
    /// to replay sees its first message after one round trip instead of after the whole replay, and its application
    /// drains the messages while later ones are still arriving instead of holding all of them in memory first.
    /// </remarks>
    public bool WaitForCatchUp { get; set; } = true;

    /// <summary>Where the device keeps its per-conversation positions; in memory by default.</summary>
    public IClientCursorStore CursorStore { get; set; } = new InMemoryClientCursorStore();
}
