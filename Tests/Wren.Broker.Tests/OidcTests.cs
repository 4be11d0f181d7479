using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Wren.Broker.Core;
using Wren.Protocol;
using Wren.Protocol.Messages;
using static Wren.Broker.Tests.AuthTestKit;

namespace Wren.Broker.Tests;

/// <summary>OpenID Connect logins with tokens signed by keys the test creates (RSA in a JWKS file, P-256 as inline PEM).</summary>
public sealed class OidcTests : IDisposable
{
    private const string Issuer = "https://id.example.test";
    private const string Audience = "wren-client";
    private readonly RSA _rsa = RSA.Create(2048);
    private readonly RSA _otherRsa = RSA.Create(2048);
    private readonly ECDsa _ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly string _jwksPath = Path.Combine(Path.GetTempPath(), "wren-jwks-" + Guid.NewGuid().ToString("N") + ".json");

    public OidcTests()
    {
        var p = _rsa.ExportParameters(false);
        var jwks = new { keys = new[] { new { kty = "RSA", kid = "rsa-1", use = "sig", alg = "RS256", n = Base64Url.EncodeToString(p.Modulus), e = Base64Url.EncodeToString(p.Exponent) } } };
        File.WriteAllText(_jwksPath, JsonSerializer.Serialize(jwks));
    }

    public void Dispose()
    {
        _rsa.Dispose();
        _otherRsa.Dispose();
        _ec.Dispose();
        File.Delete(_jwksPath);
    }

    [Fact]
    public async Task Valid_rs256_and_es256_tokens_log_in_as_the_mapped_user()
    {
        await using var broker = await StartAsync(autoCreate: true);
        var existing = await broker.CreateUserAsync("alice");

        var ok = await LoginAsync(broker, Sign(Claims("alice"), "RS256", "rsa-1", _rsa));
        Assert.Equal(existing.User.UserId, ok.UserId);
        Assert.StartsWith("wren_", ok.IssuedToken);
        Assert.StartsWith("wrenr_", ok.RefreshToken);
        await using (var session = await RawConnection.ConnectAuthenticatedAsync(broker, ok.IssuedToken!))
        {
            await session.PingAsync();
        }

        // ES256 through the inline PEM key; an audience array that contains ours; a new user is created on first login.
        var claims = Claims("newcomer");
        claims["aud"] = new[] { "other-client", Audience };
        var created = await LoginAsync(broker, Sign(claims, "ES256", null, _ec));
        Assert.Equal("newcomer", created.UserName);
        Assert.NotNull(broker.Server.Store.FindUser("newcomer"));
    }

    [Fact]
    public async Task Bad_signature_wrong_audience_wrong_issuer_expired_not_yet_valid_and_alg_none_are_refused()
    {
        await using var broker = await StartAsync(autoCreate: true);
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var cases = new Dictionary<string, string>
        {
            ["signed by another key"] = Sign(Claims("mallory"), "RS256", "rsa-1", _otherRsa),
            ["payload altered after signing"] = Tamper(Sign(Claims("bob"), "RS256", "rsa-1", _rsa), Claims("admin")),
            ["wrong audience"] = Sign(With(Claims("bob"), "aud", "someone-else"), "RS256", "rsa-1", _rsa),
            ["no audience"] = Sign(Without(Claims("bob"), "aud"), "RS256", "rsa-1", _rsa),
            ["wrong issuer"] = Sign(With(Claims("bob"), "iss", "https://evil.example.test"), "RS256", "rsa-1", _rsa),
            ["expired"] = Sign(With(Claims("bob"), "exp", now - 120), "RS256", "rsa-1", _rsa),
            ["no expiry"] = Sign(Without(Claims("bob"), "exp"), "RS256", "rsa-1", _rsa),
            ["not yet valid"] = Sign(With(Claims("bob"), "nbf", now + 600), "RS256", "rsa-1", _rsa),
            ["alg none"] = Unsigned(Claims("bob")),
            ["alg HS256 keyed with the public key"] = Hs256(Claims("bob"), _rsa.ExportSubjectPublicKeyInfo()),
            ["RS256 header on an ES256 signature"] = Relabel(Sign(Claims("bob"), "ES256", null, _ec), "RS256"),
            ["no user claim"] = Sign(Without(Claims("bob"), "preferred_username"), "RS256", "rsa-1", _rsa),
            ["not a JWT"] = "not.a.jwt",
        };

        foreach (var (name, token) in cases)
        {
            var result = await AuthAsync(broker, new Auth { Method = AuthMethod.OidcToken, Token = token });
            await using var connection = result.Connection;
            Assert.True(result.Answer.Message is Error { Code: ErrorCode.AuthFailed }, $"{name}: expected AuthFailed, got {result.Answer}");
        }

        Assert.Null(broker.Server.Store.FindUser("bob"));
        Assert.Null(broker.Server.Store.FindUser("mallory"));

        // Control: the same claims, correctly signed and in time, are accepted (so the refusals above are the checks).
        await LoginAsync(broker, Sign(With(Claims("bob"), "exp", now + 30), "RS256", "rsa-1", _rsa));
    }

    [Fact]
    public async Task Without_auto_creation_an_unknown_user_is_refused()
    {
        await using var broker = await StartAsync(autoCreate: false);
        var result = await AuthAsync(broker, new Auth { Method = AuthMethod.OidcToken, Token = Sign(Claims("stranger"), "RS256", "rsa-1", _rsa) });
        await ExpectRefusedAsync(result, ErrorCode.AuthFailed);
        Assert.Null(broker.Server.Store.FindUser("stranger"));
    }

    private Task<TestBroker> StartAsync(bool autoCreate) => TestBroker.StartAsync(o =>
    {
        o.Oidc.Issuers.Add(new OidcIssuerOptions
        {
            Issuer = Issuer,
            Audience = Audience,
            JwksPath = _jwksPath,
            PemKeys = [_ec.ExportSubjectPublicKeyInfoPem()],
            AutoCreateUsers = autoCreate,
        });
    });

    private static async Task<AuthOk> LoginAsync(TestBroker broker, string jwt)
    {
        var (answer, connection) = await AuthAsync(broker, new Auth { Method = AuthMethod.OidcToken, Token = jwt, DeviceName = "sso" });
        await connection.DisposeAsync();
        return answer.Message as AuthOk ?? throw new Xunit.Sdk.XunitException($"expected AuthOk, got {answer}");
    }

    private static Dictionary<string, object> Claims(string user)
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return new Dictionary<string, object>
        {
            ["iss"] = Issuer,
            ["aud"] = Audience,
            ["sub"] = "sub-" + user,
            ["preferred_username"] = user,
            ["iat"] = now,
            ["nbf"] = now - 5,
            ["exp"] = now + 300,
        };
    }

    private static Dictionary<string, object> With(Dictionary<string, object> claims, string name, object value)
    {
        claims[name] = value;
        return claims;
    }

    private static Dictionary<string, object> Without(Dictionary<string, object> claims, string name)
    {
        claims.Remove(name);
        return claims;
    }

    private static string Part(object value) => Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(value));

    private static string Sign(Dictionary<string, object> claims, string alg, string? kid, AsymmetricAlgorithm key)
    {
        var header = kid is null ? new Dictionary<string, object> { ["alg"] = alg, ["typ"] = "JWT" } : new Dictionary<string, object> { ["alg"] = alg, ["typ"] = "JWT", ["kid"] = kid };
        string input = Part(header) + "." + Part(claims);
        var data = Encoding.ASCII.GetBytes(input);
        byte[] signature = key switch
        {
            RSA rsa => rsa.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            ECDsa ec => ec.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation),
            _ => throw new ArgumentException("unsupported key", nameof(key)),
        };
        return input + "." + Base64Url.EncodeToString(signature);
    }

    private static string Unsigned(Dictionary<string, object> claims) =>
        Part(new Dictionary<string, object> { ["alg"] = "none", ["typ"] = "JWT" }) + "." + Part(claims) + ".";

    private static string Hs256(Dictionary<string, object> claims, byte[] secret)
    {
        string input = Part(new Dictionary<string, object> { ["alg"] = "HS256", ["typ"] = "JWT", ["kid"] = "rsa-1" }) + "." + Part(claims);
        return input + "." + Base64Url.EncodeToString(HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(input)));
    }

    private static string Tamper(string jwt, Dictionary<string, object> claims)
    {
        var parts = jwt.Split('.');
        return parts[0] + "." + Part(claims) + "." + parts[2];
    }

    private static string Relabel(string jwt, string alg)
    {
        var parts = jwt.Split('.');
        return Part(new Dictionary<string, object> { ["alg"] = alg, ["typ"] = "JWT", ["kid"] = "rsa-1" }) + "." + parts[1] + "." + parts[2];
    }
}
