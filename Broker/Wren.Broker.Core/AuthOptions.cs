namespace Wren.Broker.Core;

/// <summary>Authentication settings: token lifetimes, password hashing, login throttling and OIDC issuers.</summary>
public sealed class AuthOptions
{
    /// <summary>Lifetime of access tokens issued at login or refresh. Default 30 days; a device refreshes before then.</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Lifetime of refresh tokens. Default 90 days: a device unused for longer logs in again.</summary>
    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(90);

    /// <summary>Argon2id memory per hash, KiB. Default 19,456 (19 MiB, the OWASP recommendation).</summary>
    public int PasswordMemoryKiB { get; set; } = 19 * 1024;

    /// <summary>Argon2id passes. Default 2 (OWASP).</summary>
    public int PasswordIterations { get; set; } = 2;

    /// <summary>Argon2id lanes. Default 1 (OWASP).</summary>
    public int PasswordParallelism { get; set; } = 1;

    /// <summary>
    /// Password hashes computed at once. Default 2: each holds <see cref="PasswordMemoryKiB"/> of memory, so a login storm
    /// costs at most this many times 19 MiB; further logins wait their turn.
    /// </summary>
    public int MaxConcurrentHashes { get; set; } = 2;

    /// <summary>How long a login waits for a hashing slot before it is answered RateLimited. Default 5 s.</summary>
    public TimeSpan HashQueueTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Shortest password accepted when one is set. Default 8 characters.</summary>
    public int MinPasswordLength { get; set; } = 8;

    /// <summary>Failed logins per account name before each further failure locks it. Default 5.</summary>
    public int AccountFreeFailures { get; set; } = 5;

    /// <summary>Failed logins per client address before each further failure locks it. Default 20 (a NAT of several users).</summary>
    public int AddressFreeFailures { get; set; } = 20;

    /// <summary>First lockout; each further failure doubles it. Default 1 s.</summary>
    public TimeSpan LockoutBase { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest lockout. Default 15 minutes.</summary>
    public TimeSpan LockoutMax { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// How often live sessions are checked for an expired credential. Default 1 s, so a session ends within about a
    /// second of its token's expiry (revocation and disabling close sessions at once).
    /// </summary>
    public TimeSpan SessionCheckInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Issuer label in TOTP enrollment URIs. Default "Wren".</summary>
    public string TotpIssuer { get; set; } = "Wren";

    /// <summary>OpenID Connect issuers whose tokens are accepted with <c>AuthMethod.OidcToken</c>.</summary>
    public OidcOptions Oidc { get; set; } = new();

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate()
    {
        if (AccessTokenLifetime <= TimeSpan.Zero || RefreshTokenLifetime <= TimeSpan.Zero)
        {
            throw new ArgumentException("Token lifetimes must be positive.");
        }

        if (PasswordMemoryKiB < 8 * PasswordParallelism || PasswordMemoryKiB > 1024 * 1024 || PasswordIterations is < 1 or > 100 || PasswordParallelism is < 1 or > 16)
        {
            throw new ArgumentException("Argon2 parameters are out of range.");
        }

        if (MaxConcurrentHashes < 1 || AccountFreeFailures < 0 || AddressFreeFailures < 0 || SessionCheckInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException("Authentication limits are out of range.");
        }
    }
}

/// <summary>OpenID Connect settings (section <c>Wren:Oidc</c>).</summary>
public sealed class OidcOptions
{
    /// <summary>Accepted issuers; none by default (OIDC login is then refused).</summary>
    public List<OidcIssuerOptions> Issuers { get; set; } = [];

    /// <summary>Clock skew tolerated for exp and nbf. Default 60 s.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(60);
}

/// <summary>One accepted OpenID Connect issuer.</summary>
public sealed class OidcIssuerOptions
{
    /// <summary>The exact <c>iss</c> value.</summary>
    public string Issuer { get; set; } = "";

    /// <summary>The <c>aud</c> value the token must contain (the client id registered for Wren).</summary>
    public string Audience { get; set; } = "";

    /// <summary>Path of a JWKS file with the issuer's signing keys (RSA and P-256 EC).</summary>
    public string? JwksPath { get; set; }

    /// <summary>Inline JWKS JSON, as an alternative to <see cref="JwksPath"/>.</summary>
    public string? Jwks { get; set; }

    /// <summary>Inline PEM public keys (RSA or P-256), as an alternative to a JWKS.</summary>
    public List<string> PemKeys { get; set; } = [];

    /// <summary>The claim whose value is the Wren user name. Default <c>preferred_username</c>.</summary>
    public string UserClaim { get; set; } = "preferred_username";

    /// <summary>Create the Wren user on first login when it does not exist. Default false.</summary>
    public bool AutoCreateUsers { get; set; }
}
