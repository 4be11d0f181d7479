using Wren.Storage.Internal;

namespace Wren.Storage;

/// <summary>At-rest key rotation: a new key becomes active for new records while older records keep their key id.</summary>
public sealed partial class WrenStore
{
    /// <summary>The key id that seals new message bodies, or null when bodies are stored in plaintext.</summary>
    public byte? ActiveEncryptionKeyId => _cipher?.ActiveKeyId;

    /// <summary>The configured encryption key ids, ascending (empty when encryption is off).</summary>
    public IReadOnlyList<byte> EncryptionKeyIds => _cipher?.KeyIds ?? [];

    /// <summary>
    /// Adds <paramref name="key"/> under <paramref name="keyId"/> and makes it the active key: every append written
    /// after this completes is sealed with it; records sealed before keep their key id and stay readable. On a store
    /// opened without encryption this turns encryption on for new records (older plaintext records stay readable).
    /// </summary>
    /// <remarks>
    /// The switch happens on the writer thread between batches, so one batch never mixes keys. The key lives in memory
    /// only: the caller persists it (with every older key) before calling, and passes the same keys at the next open.
    /// </remarks>
    /// <exception cref="ArgumentException">The key is not 32 bytes, or the id is taken by a different key.</exception>
    public Task ActivateEncryptionKeyAsync(byte keyId, ReadOnlyMemory<byte> key)
    {
        if (key.Length != 32)
        {
            throw new ArgumentException("An encryption key is 32 bytes (AES-256).", nameof(key));
        }

        var copy = key.ToArray();
        return RunOnWriterAsync(() =>
        {
            if (_cipher is { } cipher)
            {
                cipher.AddAndActivate(keyId, copy);
            }
            else
            {
                _cipher = new MessageCipher(new EncryptionOptions { Keys = { [keyId] = copy }, ActiveKeyId = keyId });
            }

            return true;
        });
    }

    /// <summary>
    /// The key id that sealed the body of entry <paramref name="seq"/> of a conversation: null when the record is
    /// plaintext or absent. Reads the stored record without opening it (operators and tests check rotation with it).
    /// </summary>
    public byte? GetEntryKeyId(ulong conversationId, ulong seq)
    {
        Span<byte> key = stackalloc byte[16];
        Keys.Pair(key, conversationId, seq);
        Enter();
        try
        {
            var value = _db.Get(key, _messagesCf, _pointRead);
            return value is null ? null : SealedKeyId(value);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>The key id of a sealed message value (it follows the header), or null for a plaintext one.</summary>
    private static byte? SealedKeyId(ReadOnlySpan<byte> value)
    {
        if (value.Length < Codec.MessageHeaderSize || value[0] != Codec.FormatSealed)
        {
            return null;
        }

        int headerLength = Codec.MessageHeaderSize + System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(value[27..]);
        return value.Length > headerLength ? value[headerLength] : null;
    }
}
