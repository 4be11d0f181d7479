using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Wren.Storage;

namespace Wren.Broker.Core;

/// <summary>An issued device token: the secret is shown once and only its hash is stored.</summary>
/// <param name="Token">The secret to give to the device.</param>
/// <param name="User">The user.</param>
/// <param name="Device">The device the token authenticates.</param>
/// <param name="ExpiresMs">Expiry, Unix ms; 0 = never.</param>
public sealed record IssuedToken(string Token, UserRecord User, DeviceRecord Device, long ExpiresMs);

/// <summary>Issues and checks device tokens. Tokens are 256 random bits; the store keeps their SHA-256 only.</summary>
public sealed class Authenticator
{
    private const string Prefix = "wren_";
    private readonly IUserStore _users;
    private readonly TimeProvider _time;

    /// <summary>Creates the authenticator.</summary>
    public Authenticator(IUserStore users, TimeProvider time)
    {
        _users = users;
        _time = time;
    }

    /// <summary>Issues a token for a new device of <paramref name="user"/>.</summary>
    public async ValueTask<IssuedToken> IssueAsync(UserRecord user, string deviceName, TimeSpan? lifetime = null)
    {
        var device = await _users.CreateDeviceAsync(user.UserId, deviceName).ConfigureAwait(false);
        return await IssueForDeviceAsync(user, device, lifetime).ConfigureAwait(false);
    }

    /// <summary>Issues another token for an existing device.</summary>
    public async ValueTask<IssuedToken> IssueForDeviceAsync(UserRecord user, DeviceRecord device, TimeSpan? lifetime = null)
    {
        Span<byte> secret = stackalloc byte[32];
        RandomNumberGenerator.Fill(secret);
        string token = Prefix + Base64Url.EncodeToString(secret);
        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        long expires = lifetime is { } l ? now + (long)l.TotalMilliseconds : 0;
        await _users.StoreTokenAsync(new TokenRecord(Hash(token), user.UserId, device.DeviceId, now, expires, Revoked: false)).ConfigureAwait(false);
        return new IssuedToken(token, user, device, expires);
    }

    /// <summary>The user and device a token authenticates, or null when it is unknown, revoked, expired or its user is disabled.</summary>
    public (UserRecord User, TokenRecord Token)? Authenticate(string token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 256)
        {
            return null;
        }

        var record = _users.FindToken(Hash(token));
        if (record is null || record.Revoked || (record.ExpiresMs != 0 && record.ExpiresMs <= _time.GetUtcNow().ToUnixTimeMilliseconds()))
        {
            return null;
        }

        var user = _users.GetUser(record.UserId);
        return user is null || user.Disabled ? null : (user, record);
    }

    /// <summary>SHA-256 of the token's UTF-8 bytes: the key under which it is stored.</summary>
    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));
}
