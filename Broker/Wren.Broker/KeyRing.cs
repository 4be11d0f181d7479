using System.Security.Cryptography;
using System.Text.Json;
using Wren.Storage;

namespace Wren.Broker;

/// <summary>
/// The at-rest data keys, kept in <c>keyring.json</c> in the data directory (mode 0600, replaced atomically): every key
/// that may have sealed a stored message, and the id of the one that seals new messages.
/// </summary>
/// <remarks>
/// Format: <c>{"version":1,"active":2,"keys":{"1":"base64 of 32 bytes","2":"…"}}</c>. A key is never removed: entries
/// sealed with it stay readable. Anyone who can read this file can read message bodies on disk; back it up separately
/// from the data (a checkpoint without it is unreadable, which is the point).
/// </remarks>
internal sealed class KeyRing
{
    public const string FileName = "keyring.json";

    private KeyRing(byte activeKeyId, IReadOnlyDictionary<byte, byte[]> keys)
    {
        ActiveKeyId = activeKeyId;
        Keys = keys;
    }

    /// <summary>The key that seals new message bodies.</summary>
    public byte ActiveKeyId { get; }

    /// <summary>Every key by id.</summary>
    public IReadOnlyDictionary<byte, byte[]> Keys { get; }

    /// <summary>A key ring with one new random key, id 1.</summary>
    public static KeyRing CreateNew() => new(1, new Dictionary<byte, byte[]> { [1] = RandomNumberGenerator.GetBytes(32) });

    /// <summary>This ring plus a new random key with the next id, made active.</summary>
    /// <exception cref="InvalidOperationException">Every key id (1–255) is taken.</exception>
    public KeyRing WithNewKey()
    {
        int next = Keys.Count == 0 ? 1 : Keys.Keys.Max() + 1;
        if (next > byte.MaxValue)
        {
            throw new InvalidOperationException("the key ring is full (255 keys)");
        }

        var keys = new Dictionary<byte, byte[]>(Keys) { [(byte)next] = RandomNumberGenerator.GetBytes(32) };
        return new KeyRing((byte)next, keys);
    }

    /// <summary>The store's encryption settings for this ring.</summary>
    public EncryptionOptions ToStoreOptions()
    {
        var options = new EncryptionOptions { ActiveKeyId = ActiveKeyId };
        foreach (var (id, key) in Keys)
        {
            options.Keys[id] = key;
        }

        return options;
    }

    /// <summary>Reads the ring from the data directory; null when there is none.</summary>
    /// <exception cref="InvalidDataException">The file exists but is not a valid key ring.</exception>
    public static KeyRing? Load(string dataDirectory)
    {
        string path = Path.Combine(dataDirectory, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            if (root.GetProperty("version").GetInt32() != 1)
            {
                throw new InvalidDataException($"'{path}' has an unknown key ring version.");
            }

            var keys = new Dictionary<byte, byte[]>();
            foreach (var property in root.GetProperty("keys").EnumerateObject())
            {
                var key = property.Value.GetBytesFromBase64();
                if (!byte.TryParse(property.Name, out var id) || id == 0 || key.Length != 32)
                {
                    throw new InvalidDataException($"'{path}' holds a malformed key (id '{property.Name}').");
                }

                keys[id] = key;
            }

            byte active = root.GetProperty("active").GetByte();
            if (!keys.ContainsKey(active))
            {
                throw new InvalidDataException($"'{path}' names active key {active}, which it does not hold.");
            }

            return new KeyRing(active, keys);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or FormatException or InvalidOperationException)
        {
            throw new InvalidDataException($"'{path}' is not a valid key ring: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Writes the ring atomically: a temporary file created with mode 0600, written and flushed to disk, then renamed
    /// over the old one. A crash leaves either the old ring or the new one, never a mix.
    /// </summary>
    public void Save(string dataDirectory)
    {
        string path = Path.Combine(dataDirectory, FileName);
        string temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temporary, options))
        {
            if (!OperatingSystem.IsWindows())
            {
                // A leftover temporary file keeps its old mode on FileMode.Create; set it explicitly.
                File.SetUnixFileMode(stream.SafeFileHandle, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            {
                writer.WriteStartObject();
                writer.WriteNumber("version", 1);
                writer.WriteNumber("active", ActiveKeyId);
                writer.WriteStartObject("keys");
                foreach (var (id, key) in Keys.OrderBy(k => k.Key))
                {
                    writer.WriteBase64String(id.ToString(System.Globalization.CultureInfo.InvariantCulture), key);
                }

                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }
}
