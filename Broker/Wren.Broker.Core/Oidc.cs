using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Wren.Broker.Core;

/// <summary>
/// Validates OpenID Connect JWTs (ID or access tokens) from configured issuers: compact JWS with RS256 or ES256 only
/// (<c>none</c> and every other algorithm are refused), a signing key from the issuer's JWKS or PEM keys (by <c>kid</c>
/// when given), exact <c>iss</c>, <c>aud</c> containing the configured audience, <c>exp</c> and <c>nbf</c> within the
/// clock skew. The configured claim becomes the Wren user name.
/// </summary>
public sealed class OidcValidator : IDisposable
{
    private const int MaxTokenLength = 8 * 1024;
    private readonly List<Issuer> _issuers = [];
    private readonly TimeSpan _skew;

    /// <summary>Loads the issuers' keys.</summary>
    /// <exception cref="InvalidOperationException">An issuer is misconfigured or its keys cannot be read.</exception>
    public OidcValidator(OidcOptions options)
    {
        _skew = options.ClockSkew;
        foreach (var issuer in options.Issuers)
        {
            if (string.IsNullOrEmpty(issuer.Issuer) || string.IsNullOrEmpty(issuer.Audience) || string.IsNullOrEmpty(issuer.UserClaim))
            {
                throw new InvalidOperationException("Every Wren:Oidc:Issuers entry needs Issuer, Audience and UserClaim.");
            }

            var keys = new List<SigningKey>();
            if (!string.IsNullOrEmpty(issuer.JwksPath))
            {
                LoadJwks(File.ReadAllText(issuer.JwksPath), keys);
            }

            if (!string.IsNullOrEmpty(issuer.Jwks))
            {
                LoadJwks(issuer.Jwks, keys);
            }

            foreach (var pem in issuer.PemKeys)
            {
                keys.Add(LoadPem(pem));
            }

            if (keys.Count == 0)
            {
                throw new InvalidOperationException($"OIDC issuer {issuer.Issuer} has no signing keys (JwksPath, Jwks or PemKeys).");
            }

            _issuers.Add(new Issuer(issuer, keys));
        }
    }

    /// <summary>True when at least one issuer is configured.</summary>
    public bool IsEnabled => _issuers.Count > 0;

    /// <summary>Validates a token. On success returns the issuer's settings and the user name; otherwise null and why.</summary>
    public (OidcIssuerOptions Issuer, string UserName)? Validate(string token, DateTimeOffset now, out string reason)
    {
        reason = "invalid token";
        if (string.IsNullOrEmpty(token) || token.Length > MaxTokenLength)
        {
            return null;
        }

        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            return null;
        }

        try
        {
            using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[0]));
            using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
            var signature = Base64Url.DecodeFromChars(parts[2]);
            if (header.RootElement.ValueKind != JsonValueKind.Object || payload.RootElement.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            string? alg = GetString(header.RootElement, "alg");
            if (alg is not ("RS256" or "ES256"))
            {
                reason = "unsupported algorithm";
                return null;
            }

            string? iss = GetString(payload.RootElement, "iss");
            var issuer = _issuers.FirstOrDefault(i => string.Equals(i.Options.Issuer, iss, StringComparison.Ordinal));
            if (issuer is null)
            {
                reason = "unknown issuer";
                return null;
            }

            string? kid = GetString(header.RootElement, "kid");
            var signed = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
            bool verified = issuer.Keys
                .Where(k => k.Algorithm == alg && (kid is null || k.KeyId is null || k.KeyId == kid))
                .Any(k => k.Verify(signed, signature));
            if (!verified)
            {
                reason = "bad signature";
                return null;
            }

            if (!HasAudience(payload.RootElement, issuer.Options.Audience))
            {
                reason = "wrong audience";
                return null;
            }

            long nowSeconds = now.ToUnixTimeSeconds();
            long skew = (long)_skew.TotalSeconds;
            if (!TryGetSeconds(payload.RootElement, "exp", out long exp) || exp + skew <= nowSeconds)
            {
                reason = "expired";
                return null;
            }

            if (TryGetSeconds(payload.RootElement, "nbf", out long nbf) && nbf - skew > nowSeconds)
            {
                reason = "not yet valid";
                return null;
            }

            string? user = GetString(payload.RootElement, issuer.Options.UserClaim);
            if (string.IsNullOrEmpty(user) || Encoding.UTF8.GetByteCount(user) > 256)
            {
                reason = "no user claim";
                return null;
            }

            return (issuer.Options, user);
        }
        catch (Exception ex) when (ex is FormatException or JsonException or CryptographicException or ArgumentException)
        {
            return null;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var key in _issuers.SelectMany(i => i.Keys))
        {
            key.Dispose();
        }
    }

    private static bool HasAudience(JsonElement payload, string audience)
    {
        if (!payload.TryGetProperty("aud", out var aud))
        {
            return false;
        }

        return aud.ValueKind switch
        {
            JsonValueKind.String => aud.GetString() == audience,
            JsonValueKind.Array => aud.EnumerateArray().Any(a => a.ValueKind == JsonValueKind.String && a.GetString() == audience),
            _ => false,
        };
    }

    private static string? GetString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static bool TryGetSeconds(JsonElement element, string name, out long seconds)
    {
        seconds = 0;
        return element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out seconds);
    }

    private static void LoadJwks(string json, List<SigningKey> keys)
    {
        using var document = JsonDocument.Parse(json);
        if (!document.RootElement.TryGetProperty("keys", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidOperationException("A JWKS must be an object with a \"keys\" array.");
        }

        foreach (var jwk in list.EnumerateArray())
        {
            string? use = GetString(jwk, "use");
            if (use is not null and not "sig")
            {
                continue;
            }

            string? kid = GetString(jwk, "kid");
            switch (GetString(jwk, "kty"))
            {
                case "RSA":
                    var rsa = RSA.Create();
                    rsa.ImportParameters(new RSAParameters
                    {
                        Modulus = Base64Url.DecodeFromChars(GetString(jwk, "n")),
                        Exponent = Base64Url.DecodeFromChars(GetString(jwk, "e")),
                    });
                    keys.Add(new SigningKey(kid, "RS256", rsa, null));
                    break;
                case "EC" when GetString(jwk, "crv") == "P-256":
                    var ec = ECDsa.Create(new ECParameters
                    {
                        Curve = ECCurve.NamedCurves.nistP256,
                        Q = new ECPoint { X = Base64Url.DecodeFromChars(GetString(jwk, "x")), Y = Base64Url.DecodeFromChars(GetString(jwk, "y")) },
                    });
                    keys.Add(new SigningKey(kid, "ES256", null, ec));
                    break;
                default:
                    // Other key types and curves cannot verify RS256 or ES256 signatures; they are skipped.
                    break;
            }
        }
    }

    private static SigningKey LoadPem(string pem)
    {
        var ec = ECDsa.Create();
        try
        {
            ec.ImportFromPem(pem);
            if (ec.KeySize == 256)
            {
                return new SigningKey(null, "ES256", null, ec);
            }
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            // Not an EC key: read it as RSA below.
        }

        ec.Dispose();
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            rsa.Dispose();
            throw new InvalidOperationException("An OIDC PEM key is neither an RSA nor a P-256 public key.", ex);
        }

        return new SigningKey(null, "RS256", rsa, null);
    }

    private sealed record Issuer(OidcIssuerOptions Options, List<SigningKey> Keys);

    private sealed class SigningKey(string? keyId, string algorithm, RSA? rsa, ECDsa? ec) : IDisposable
    {
        public string? KeyId { get; } = keyId;

        public string Algorithm { get; } = algorithm;

        public bool Verify(byte[] data, byte[] signature) => rsa is not null
            ? rsa.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            : ec!.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

        public void Dispose()
        {
            rsa?.Dispose();
            ec?.Dispose();
        }
    }
}
