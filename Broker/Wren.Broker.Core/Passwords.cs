using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Konscious.Security.Cryptography;

namespace Wren.Broker.Core;

/// <summary>
/// Argon2id password hashes in PHC string format (<c>$argon2id$v=19$m=…,t=…,p=…$salt$hash</c>): the parameters and salt
/// are stored with each hash, so stronger parameters apply to new hashes without breaking old ones.
/// </summary>
/// <remarks>
/// Each hash holds its memory parameter (19 MiB by default) while it runs, so at most
/// <see cref="AuthOptions.MaxConcurrentHashes"/> run at once; the rest wait for a slot up to
/// <see cref="AuthOptions.HashQueueTimeout"/>. Checking a login for an unknown user hashes against a dummy hash of the
/// same parameters, so its cost does not reveal whether the user exists.
/// </remarks>
public sealed class PasswordHasher : IDisposable
{
    private const int SaltBytes = 16;
    private const int HashBytes = 32;
    private readonly AuthOptions _options;
    private readonly SemaphoreSlim _slots;
    private readonly Lazy<string> _dummy;

    /// <summary>Creates the hasher.</summary>
    public PasswordHasher(AuthOptions options)
    {
        _options = options;
        _slots = new SemaphoreSlim(options.MaxConcurrentHashes, options.MaxConcurrentHashes);
        _dummy = new Lazy<string>(() => Compute(RandomNumberGenerator.GetHexString(16), RandomNumberGenerator.GetBytes(SaltBytes), _options.PasswordMemoryKiB, _options.PasswordIterations, _options.PasswordParallelism));
    }

    /// <summary>Hashes a new password with the configured parameters and a random salt. Null when no slot frees up in time.</summary>
    public async Task<string?> HashAsync(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (!await _slots.WaitAsync(_options.HashQueueTimeout).ConfigureAwait(false))
        {
            return null;
        }

        try
        {
            return await Task.Run(() => Compute(password, RandomNumberGenerator.GetBytes(SaltBytes), _options.PasswordMemoryKiB, _options.PasswordIterations, _options.PasswordParallelism)).ConfigureAwait(false);
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>
    /// Checks a password against a stored hash (a dummy hash when <paramref name="stored"/> is null, so the caller spends
    /// the same time either way). Null when no hashing slot frees up in time.
    /// </summary>
    public async Task<bool?> VerifyAsync(string password, string? stored)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (!await _slots.WaitAsync(_options.HashQueueTimeout).ConfigureAwait(false))
        {
            return null;
        }

        try
        {
            return await Task.Run(() =>
            {
                bool known = stored is not null;
                if (!TryParse(stored ?? _dummy.Value, out var p))
                {
                    // An unreadable stored hash never matches; the dummy keeps the cost the same.
                    known = false;
                    _ = TryParse(_dummy.Value, out p);
                }

                var computed = Derive(password, p.Salt, p.MemoryKiB, p.Iterations, p.Parallelism, p.Hash.Length);
                return CryptographicOperations.FixedTimeEquals(computed, p.Hash) && known;
            }).ConfigureAwait(false);
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>True when <paramref name="stored"/> is a well-formed Argon2id hash with parameters in range.</summary>
    public static bool IsWellFormed(string stored) => TryParse(stored, out _);

    /// <inheritdoc/>
    public void Dispose() => _slots.Dispose();

    private static string Compute(string password, byte[] salt, int memoryKiB, int iterations, int parallelism)
    {
        var hash = Derive(password, salt, memoryKiB, iterations, parallelism, HashBytes);
        return string.Create(CultureInfo.InvariantCulture, $"$argon2id$v=19$m={memoryKiB},t={iterations},p={parallelism}${Base64.EncodeToString(salt)}${Base64.EncodeToString(hash)}");
    }

    private static byte[] Derive(string password, byte[] salt, int memoryKiB, int iterations, int parallelism, int length)
    {
        using var argon = new Argon2id(Encoding.UTF8.GetBytes(password))
        {
            Salt = salt,
            MemorySize = memoryKiB,
            Iterations = iterations,
            DegreeOfParallelism = parallelism,
        };
        return argon.GetBytes(length);
    }

    private static bool TryParse(string? stored, out Parameters parameters)
    {
        parameters = default;
        var parts = stored?.Split('$');
        if (parts is not { Length: 6 } || parts[0].Length != 0 || parts[1] != "argon2id" || parts[2] != "v=19")
        {
            return false;
        }

        int m = 0, t = 0, p = 0;
        foreach (var pair in parts[3].Split(','))
        {
            var kv = pair.Split('=');
            if (kv.Length != 2 || !int.TryParse(kv[1], NumberStyles.None, CultureInfo.InvariantCulture, out int value))
            {
                return false;
            }

            switch (kv[0])
            {
                case "m": m = value; break;
                case "t": t = value; break;
                case "p": p = value; break;
                default: return false;
            }
        }

        // Bounds keep a corrupted or planted record from costing more than a strong legitimate hash.
        if (p is < 1 or > 16 || m < 8 * p || m > 1024 * 1024 || t is < 1 or > 100)
        {
            return false;
        }

        try
        {
            var salt = Base64.DecodeFromString(parts[4]);
            var hash = Base64.DecodeFromString(parts[5]);
            if (salt.Length < 8 || hash.Length is < 16 or > 64)
            {
                return false;
            }

            parameters = new Parameters(m, t, p, salt, hash);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private readonly record struct Parameters(int MemoryKiB, int Iterations, int Parallelism, byte[] Salt, byte[] Hash);

    /// <summary>Unpadded standard Base64, as the PHC string format uses.</summary>
    private static class Base64
    {
        public static string EncodeToString(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=');

        public static byte[] DecodeFromString(string text) => Convert.FromBase64String(text.PadRight(text.Length + ((4 - (text.Length % 4)) % 4), '='));
    }
}
