using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Wren.Storage.Internal;

/// <summary>AES-256-GCM sealing of message bodies with per-record key ids and random nonces.</summary>
/// <remarks>
/// <see cref="AesGcm"/> instances are not safe for concurrent use, so each key keeps a small pool: the writer seals on
/// one thread, readers open on many.
/// </remarks>
internal sealed class MessageCipher : IDisposable
{
    public const int NonceSize = 12;
    public const int TagSize = 16;

    /// <summary>Bytes a sealed body adds: key id, nonce, tag.</summary>
    public const int Overhead = 1 + NonceSize + TagSize;

    /// <summary>The keys by id; replaced whole when a key is added, so readers on other threads never see a half-built map.</summary>
    private volatile Dictionary<byte, KeySlot> _keys = [];

    public MessageCipher(EncryptionOptions options)
    {
        var keys = new Dictionary<byte, KeySlot>();
        foreach (var (id, key) in options.Keys)
        {
            keys[id] = new KeySlot(key.ToArray());
        }

        _keys = keys;
        ActiveKeyId = options.ActiveKeyId;
    }

    /// <summary>The key that seals new records. Changed only on the store's writer thread, which is the only thread that seals.</summary>
    public byte ActiveKeyId { get; private set; }

    /// <summary>The configured key ids, ascending.</summary>
    public IReadOnlyList<byte> KeyIds => [.. _keys.Keys.Order()];

    /// <summary>Adds a key (or keeps the existing one with the same bytes) and makes it the active key. Writer thread only.</summary>
    /// <exception cref="ArgumentException">The id is taken by a different key.</exception>
    public void AddAndActivate(byte keyId, ReadOnlySpan<byte> key)
    {
        var current = _keys;
        if (current.TryGetValue(keyId, out var existing))
        {
            if (!existing.Matches(key))
            {
                throw new ArgumentException($"Encryption key id {keyId} is already configured with a different key.", nameof(keyId));
            }
        }
        else
        {
            _keys = new Dictionary<byte, KeySlot>(current) { [keyId] = new KeySlot(key.ToArray()) };
        }

        ActiveKeyId = keyId;
    }

    /// <summary>Writes <c>keyId | nonce | tag | ciphertext</c> of <paramref name="plaintext"/> into <paramref name="destination"/>.</summary>
    public void Seal(ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData, Span<byte> destination)
    {
        destination[0] = ActiveKeyId;
        var nonce = destination.Slice(1, NonceSize);
        var tag = destination.Slice(1 + NonceSize, TagSize);
        var ciphertext = destination.Slice(Overhead, plaintext.Length);
        RandomNumberGenerator.Fill(nonce);
        var slot = _keys[ActiveKeyId];
        var aes = slot.Rent();
        try
        {
            aes.Encrypt(nonce, plaintext, ciphertext, tag, associatedData);
        }
        finally
        {
            slot.Return(aes);
        }
    }

    /// <summary>Opens <c>keyId | nonce | tag | ciphertext</c> into <paramref name="destination"/>.</summary>
    /// <exception cref="StorageCorruptException">The record was not sealed for this place or was altered.</exception>
    /// <exception cref="StorageException">The record's key is not configured.</exception>
    public void Open(ReadOnlySpan<byte> sealedBody, ReadOnlySpan<byte> associatedData, Span<byte> destination)
    {
        if (sealedBody.Length < Overhead)
        {
            throw new StorageCorruptException("An encrypted message record is truncated.");
        }

        if (!_keys.TryGetValue(sealedBody[0], out var slot))
        {
            throw new StorageException(
                $"A message is encrypted with key id {sealedBody[0]}, which is not configured. Add that key to the encryption keys.");
        }

        var aes = slot.Rent();
        try
        {
            aes.Decrypt(
                sealedBody.Slice(1, NonceSize),
                sealedBody[Overhead..],
                sealedBody.Slice(1 + NonceSize, TagSize),
                destination,
                associatedData);
        }
        catch (CryptographicException e)
        {
            throw new StorageCorruptException(
                "A message record fails authentication: it was altered or moved from another conversation or seq.", e);
        }
        finally
        {
            slot.Return(aes);
        }
    }

    public void Dispose()
    {
        foreach (var slot in _keys.Values)
        {
            slot.Dispose();
        }
    }

    private sealed class KeySlot(byte[] key) : IDisposable
    {
        private readonly ConcurrentBag<AesGcm> _pool = [];

        public bool Matches(ReadOnlySpan<byte> other) => CryptographicOperations.FixedTimeEquals(key, other);

        public AesGcm Rent() => _pool.TryTake(out var aes) ? aes : new AesGcm(key, TagSize);

        public void Return(AesGcm aes)
        {
            if (_pool.Count < 16)
            {
                _pool.Add(aes);
            }
            else
            {
                aes.Dispose();
            }
        }

        public void Dispose()
        {
            while (_pool.TryTake(out var aes))
            {
                aes.Dispose();
            }

            CryptographicOperations.ZeroMemory(key);
        }
    }
}
