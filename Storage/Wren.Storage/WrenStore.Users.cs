using System.Buffers.Binary;
using System.Text;
using RocksDbSharp;
using Wren.Storage.Internal;

namespace Wren.Storage;

public sealed partial class WrenStore : ICredentialStore
{
    private const int TokenHashSize = 32;

    // Credentials column family, three key kinds:
    //   'c' | user(8)              → flags(1: totp on = 1) | lastStep(8) | hashLength(2) | hash | secretTag(1) | secret
    //   'r' | refreshHash(32)      → user(8) | device(4) | accessHash(32) | createdMs(8) | expiresMs(8)
    //   'f' | user(8) | device(4)  → the device's current refresh hash(32)
    private const byte CredentialTag = (byte)'c';
    private const byte RefreshTag = (byte)'r';
    private const byte FamilyTag = (byte)'f';
    private const int RefreshValueSize = 8 + 4 + TokenHashSize + 8 + 8;
    private static readonly byte[] s_totpAssociatedData = Encoding.ASCII.GetBytes("wren.totp.v1");
    private ColumnFamilyHandle? _credentialsCf;

    // A handle closed by a reopen after a failed write (WrenStore.Recovery.cs) reads as zero and is looked up again.
    private ColumnFamilyHandle CredentialsCf => _credentialsCf is { } cf && cf.Handle != IntPtr.Zero ? cf : (_credentialsCf = _db.GetColumnFamily(Keys.Credentials));

    /// <inheritdoc/>
    /// <remarks>Users are read from RocksDB (point lookups through the block cache), not cached in memory.</remarks>
    public ValueTask<UserRecord?> CreateUserAsync(string userName, string displayName, bool isAdmin = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        ArgumentNullException.ThrowIfNull(displayName);
        if (Encoding.UTF8.GetByteCount(userName) > ushort.MaxValue)
        {
            throw new ArgumentException("The user name is too long.", nameof(userName));
        }

        return new ValueTask<UserRecord?>(RunOnWriterAsync(() =>
        {
            var nameKey = Encoding.UTF8.GetBytes(userName);
            if (_db.Get(nameKey, _userNamesCf, _pointRead) is not null)
            {
                return null;
            }

            var user = new UserRecord(_nextUserId, userName, displayName, NowMs(), Disabled: false, isAdmin);
            var batch = _operationBatch;
            batch.Clear();
            batch.Put(Keys.U64(user.UserId), Codec.WriteUser(user), _usersCf);
            batch.Put(nameKey, Keys.U64(user.UserId), _userNamesCf);
            batch.Put(Keys.NextUserKey, Keys.U64(user.UserId + 1), _metaCf);
            WriteDurably(batch);
            _nextUserId = user.UserId + 1;
            Interlocked.Increment(ref _userCount);
            return (UserRecord?)user;
        }));
    }

    /// <inheritdoc/>
    public UserRecord? GetUser(ulong userId)
    {
        Span<byte> key = stackalloc byte[8];
        Keys.Write(key, userId);
        var value = Get(key, _usersCf);
        return value is null ? null : Codec.ReadUser(userId, value);
    }

    /// <inheritdoc/>
    public UserRecord? FindUser(string userName)
    {
        ArgumentNullException.ThrowIfNull(userName);
        var id = Get(Encoding.UTF8.GetBytes(userName), _userNamesCf);
        return id is { Length: 8 } ? GetUser(Keys.ReadU64(id)) : null;
    }

    /// <inheritdoc/>
    public IReadOnlyList<UserRecord> ListUsers(ulong afterUserId, int limit)
    {
        var users = new List<UserRecord>();
        if (limit <= 0 || afterUserId == ulong.MaxValue)
        {
            return users;
        }

        Enter();
        try
        {
            var readOptions = new ReadOptions();
            using var iterator = _db.NewIterator(_usersCf, readOptions);
            for (iterator.Seek(Keys.U64(afterUserId + 1)); iterator.Valid() && users.Count < limit; iterator.Next())
            {
                users.Add(Codec.ReadUser(Keys.ReadU64(iterator.GetKeySpan()), iterator.GetValueSpan()));
            }

            GC.KeepAlive(readOptions);
        }
        finally
        {
            Exit();
        }

        return users;
    }

    /// <inheritdoc/>
    public ValueTask<bool> SetDisabledAsync(ulong userId, bool disabled) => new(RunOnWriterAsync(() =>
    {
        var user = GetUser(userId);
        if (user is null)
        {
            return false;
        }

        if (user.Disabled != disabled)
        {
            var batch = _operationBatch;
            batch.Clear();
            batch.Put(Keys.U64(userId), Codec.WriteUser(user with { Disabled = disabled }), _usersCf);
            WriteDurably(batch);
        }

        return true;
    }));

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The user does not exist.</exception>
    public ValueTask<DeviceRecord> CreateDeviceAsync(ulong userId, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return new ValueTask<DeviceRecord>(RunOnWriterAsync(() =>
        {
            if (GetUser(userId) is null)
            {
                throw new ArgumentException($"User {userId} does not exist.", nameof(userId));
            }

            var devices = ListDevices(userId);
            var deviceId = devices.Count == 0 ? 1u : devices[^1].DeviceId + 1;
            var device = new DeviceRecord(userId, deviceId, name, NowMs());
            var batch = _operationBatch;
            batch.Clear();
            batch.Put(Keys.Device(userId, deviceId), Codec.WriteDevice(device), _devicesCf);
            WriteDurably(batch);
            return device;
        }));
    }

    /// <inheritdoc/>
    /// <remarks>Ascending by device id.</remarks>
    public IReadOnlyList<DeviceRecord> ListDevices(ulong userId)
    {
        var devices = new List<DeviceRecord>();
        Enter();
        try
        {
            Scan(_devicesCf, Keys.U64(userId), (key, value) =>
                devices.Add(Codec.ReadDevice(userId, Keys.ReadU32(key[8..]), value)));
        }
        finally
        {
            Exit();
        }

        return devices;
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The hash is not 32 bytes.</exception>
    public ValueTask StoreTokenAsync(TokenRecord token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (token.TokenHash is not { Length: TokenHashSize })
        {
            throw new ArgumentException("TokenHash must be the 32-byte SHA-256 of the token secret.", nameof(token));
        }

        var hash = token.TokenHash.ToArray();
        return new ValueTask(RunOnWriterAsync(() =>
        {
            var batch = _operationBatch;
            batch.Clear();
            batch.Put(hash, Codec.WriteToken(token), _tokensCf);
            batch.Put(UserTokenKey(token.UserId, hash), ReadOnlySpan<byte>.Empty, _userTokensCf);
            WriteDurably(batch);
            return true;
        }));
    }

    /// <inheritdoc/>
    public TokenRecord? FindToken(ReadOnlySpan<byte> tokenHash)
    {
        if (tokenHash.Length != TokenHashSize)
        {
            return null;
        }

        var value = Get(tokenHash, _tokensCf);
        return value is null ? null : Codec.ReadToken(tokenHash.ToArray(), value);
    }

    /// <inheritdoc/>
    public IReadOnlyList<TokenRecord> ListTokens(ulong userId)
    {
        var hashes = new List<byte[]>();
        Enter();
        try
        {
            Scan(_userTokensCf, Keys.U64(userId), (key, _) => hashes.Add(key[8..].ToArray()));
        }
        finally
        {
            Exit();
        }

        var tokens = new List<TokenRecord>(hashes.Count);
        foreach (var hash in hashes)
        {
            if (FindToken(hash) is { } token)
            {
                tokens.Add(token);
            }
        }

        return tokens;
    }

    /// <inheritdoc/>
    public ValueTask<bool> RevokeTokenAsync(ReadOnlyMemory<byte> tokenHash)
    {
        var hash = tokenHash.ToArray();
        return new ValueTask<bool>(RunOnWriterAsync(() =>
        {
            var token = FindToken(hash);
            if (token is null)
            {
                return false;
            }

            if (!token.Revoked)
            {
                var batch = _operationBatch;
                batch.Clear();
                batch.Put(hash, Codec.WriteToken(token with { Revoked = true }), _tokensCf);
                WriteDurably(batch);
            }

            return true;
        }));
    }

    /// <inheritdoc/>
    public CredentialRecord GetCredentials(ulong userId)
    {
        var value = Get(CredentialKey(userId), CredentialsCf);
        return value is null ? new CredentialRecord(userId, null, null, false, 0) : ReadCredentials(userId, value);
    }

    /// <inheritdoc/>
    public ValueTask SetPasswordHashAsync(ulong userId, string? passwordHash) =>
        UpdateCredentialsAsync(userId, c => c with { PasswordHash = passwordHash });

    /// <inheritdoc/>
    public ValueTask SetTotpAsync(ulong userId, byte[]? secret, bool enabled) =>
        UpdateCredentialsAsync(userId, c => c with { TotpSecret = secret?.ToArray(), TotpEnabled = secret is not null && enabled });

    /// <inheritdoc/>
    public ValueTask<bool> TryUseTotpStepAsync(ulong userId, long step) => new(RunOnWriterAsync(() =>
    {
        var current = GetCredentials(userId);
        if (step <= current.LastTotpStep)
        {
            return false;
        }

        PutCredentials(current with { LastTotpStep = step });
        return true;
    }));

    /// <inheritdoc/>
    public ValueTask StoreRefreshAsync(RefreshRecord refresh)
    {
        ArgumentNullException.ThrowIfNull(refresh);
        CheckHash(refresh.TokenHash);
        CheckHash(refresh.AccessTokenHash);
        return new ValueTask(RunOnWriterAsync(() =>
        {
            var batch = _operationBatch;
            batch.Clear();
            batch.Put(RefreshKey(refresh.TokenHash), WriteRefresh(refresh), CredentialsCf);
            batch.Put(FamilyKey(refresh.UserId, refresh.DeviceId), refresh.TokenHash, CredentialsCf);
            WriteDurably(batch);
            return true;
        }));
    }

    /// <inheritdoc/>
    public RefreshRecord? FindRefresh(ReadOnlySpan<byte> tokenHash)
    {
        if (tokenHash.Length != TokenHashSize)
        {
            return null;
        }

        var value = Get(RefreshKey(tokenHash), CredentialsCf);
        return value is { Length: RefreshValueSize } ? ReadRefresh(tokenHash.ToArray(), value) : null;
    }

    /// <inheritdoc/>
    public ValueTask<RefreshOutcome> RotateRefreshAsync(byte[] oldHash, long nowMs, TokenRecord newAccess, RefreshRecord newRefresh)
    {
        ArgumentNullException.ThrowIfNull(oldHash);
        ArgumentNullException.ThrowIfNull(newAccess);
        ArgumentNullException.ThrowIfNull(newRefresh);
        CheckHash(oldHash);
        CheckHash(newAccess.TokenHash);
        CheckHash(newRefresh.TokenHash);
        return new ValueTask<RefreshOutcome>(RunOnWriterAsync(() =>
        {
            var old = FindRefresh(oldHash);
            if (old is null || old.ExpiresMs <= nowMs || old.UserId != newAccess.UserId || old.DeviceId != newAccess.DeviceId)
            {
                return RefreshOutcome.NotFound;
            }

            var current = Get(FamilyKey(old.UserId, old.DeviceId), CredentialsCf);
            if (current is null || !current.AsSpan().SequenceEqual(oldHash))
            {
                RevokeDeviceOnWriter(old.UserId, old.DeviceId);
                return RefreshOutcome.Reused;
            }

            var batch = _operationBatch;
            batch.Clear();
            if (FindToken(old.AccessTokenHash) is { Revoked: false } oldAccess)
            {
                batch.Put(old.AccessTokenHash, Codec.WriteToken(oldAccess with { Revoked = true }), _tokensCf);
            }

            batch.Put(newAccess.TokenHash, Codec.WriteToken(newAccess), _tokensCf);
            batch.Put(UserTokenKey(newAccess.UserId, newAccess.TokenHash), ReadOnlySpan<byte>.Empty, _userTokensCf);
            batch.Put(RefreshKey(newRefresh.TokenHash), WriteRefresh(newRefresh), CredentialsCf);
            batch.Put(FamilyKey(newRefresh.UserId, newRefresh.DeviceId), newRefresh.TokenHash, CredentialsCf);
            WriteDurably(batch);
            return RefreshOutcome.Rotated;
        }));
    }

    /// <inheritdoc/>
    public ValueTask RevokeDeviceAsync(ulong userId, uint deviceId) => new(RunOnWriterAsync(() =>
    {
        RevokeDeviceOnWriter(userId, deviceId);
        return true;
    }));

    private void RevokeDeviceOnWriter(ulong userId, uint deviceId)
    {
        var batch = _operationBatch;
        batch.Clear();
        foreach (var token in ListTokens(userId))
        {
            if (token.DeviceId == deviceId && !token.Revoked)
            {
                batch.Put(token.TokenHash, Codec.WriteToken(token with { Revoked = true }), _tokensCf);
            }
        }

        batch.Delete(FamilyKey(userId, deviceId), CredentialsCf);
        WriteDurably(batch);
    }

    private ValueTask UpdateCredentialsAsync(ulong userId, Func<CredentialRecord, CredentialRecord> change) => new(RunOnWriterAsync(() =>
    {
        PutCredentials(change(GetCredentials(userId)));
        return true;
    }));

    private void PutCredentials(CredentialRecord credentials)
    {
        var batch = _operationBatch;
        batch.Clear();
        batch.Put(CredentialKey(credentials.UserId), WriteCredentials(credentials), CredentialsCf);
        WriteDurably(batch);
    }

    private byte[] WriteCredentials(CredentialRecord c)
    {
        var hash = Encoding.UTF8.GetBytes(c.PasswordHash ?? "");
        var secret = c.TotpSecret ?? [];
        bool seal = _cipher is not null && secret.Length > 0;
        int secretLength = seal ? Internal.MessageCipher.Overhead + secret.Length : secret.Length;
        var value = new byte[1 + 8 + 2 + hash.Length + 1 + secretLength];
        value[0] = (byte)(c.TotpEnabled ? 1 : 0);
        BinaryPrimitives.WriteInt64BigEndian(value.AsSpan(1), c.LastTotpStep);
        BinaryPrimitives.WriteUInt16BigEndian(value.AsSpan(9), (ushort)hash.Length);
        hash.CopyTo(value, 11);
        int at = 11 + hash.Length;
        value[at] = (byte)(secret.Length == 0 ? 0 : seal ? 2 : 1);
        if (seal)
        {
            _cipher!.Seal(secret, TotpAssociatedData(c.UserId), value.AsSpan(at + 1));
        }
        else
        {
            secret.CopyTo(value, at + 1);
        }

        return value;
    }

    private CredentialRecord ReadCredentials(ulong userId, byte[] value)
    {
        if (value.Length < 12)
        {
            throw new StorageCorruptException("A credential record is malformed.");
        }

        int hashLength = BinaryPrimitives.ReadUInt16BigEndian(value.AsSpan(9));
        int at = 11 + hashLength;
        if (value.Length < at + 1)
        {
            throw new StorageCorruptException("A credential record is malformed.");
        }

        string? hash = hashLength == 0 ? null : Encoding.UTF8.GetString(value, 11, hashLength);
        var stored = value.AsSpan(at + 1);
        byte[]? secret = value[at] switch
        {
            0 => null,
            1 => stored.ToArray(),
            2 when _cipher is not null && stored.Length > Internal.MessageCipher.Overhead => OpenSecret(userId, stored),
            2 => throw new StorageException("A TOTP secret is encrypted but the store has no encryption keys."),
            _ => throw new StorageCorruptException("A credential record is malformed."),
        };
        return new CredentialRecord(userId, hash, secret, (value[0] & 1) != 0, BinaryPrimitives.ReadInt64BigEndian(value.AsSpan(1)));
    }

    private byte[] OpenSecret(ulong userId, ReadOnlySpan<byte> sealedSecret)
    {
        var secret = new byte[sealedSecret.Length - Internal.MessageCipher.Overhead];
        _cipher!.Open(sealedSecret, TotpAssociatedData(userId), secret);
        return secret;
    }

    private static byte[] TotpAssociatedData(ulong userId)
    {
        var data = new byte[s_totpAssociatedData.Length + 8];
        s_totpAssociatedData.CopyTo(data, 0);
        BinaryPrimitives.WriteUInt64BigEndian(data.AsSpan(s_totpAssociatedData.Length), userId);
        return data;
    }

    private static byte[] WriteRefresh(RefreshRecord r)
    {
        var value = new byte[RefreshValueSize];
        BinaryPrimitives.WriteUInt64BigEndian(value, r.UserId);
        BinaryPrimitives.WriteUInt32BigEndian(value.AsSpan(8), r.DeviceId);
        r.AccessTokenHash.CopyTo(value, 12);
        BinaryPrimitives.WriteInt64BigEndian(value.AsSpan(12 + TokenHashSize), r.CreatedMs);
        BinaryPrimitives.WriteInt64BigEndian(value.AsSpan(20 + TokenHashSize), r.ExpiresMs);
        return value;
    }

    private static RefreshRecord ReadRefresh(byte[] hash, ReadOnlySpan<byte> value) => new(
        hash,
        BinaryPrimitives.ReadUInt64BigEndian(value),
        BinaryPrimitives.ReadUInt32BigEndian(value[8..]),
        value.Slice(12, TokenHashSize).ToArray(),
        BinaryPrimitives.ReadInt64BigEndian(value[(12 + TokenHashSize)..]),
        BinaryPrimitives.ReadInt64BigEndian(value[(20 + TokenHashSize)..]));

    private static void CheckHash(byte[] hash)
    {
        if (hash is not { Length: TokenHashSize })
        {
            throw new ArgumentException("A token hash must be the 32-byte SHA-256 of the secret.", nameof(hash));
        }
    }

    private static byte[] CredentialKey(ulong userId)
    {
        var key = new byte[9];
        key[0] = CredentialTag;
        Keys.Write(key.AsSpan(1), userId);
        return key;
    }

    private static byte[] RefreshKey(ReadOnlySpan<byte> hash)
    {
        var key = new byte[1 + TokenHashSize];
        key[0] = RefreshTag;
        hash.CopyTo(key.AsSpan(1));
        return key;
    }

    private static byte[] FamilyKey(ulong userId, uint deviceId)
    {
        var key = new byte[13];
        key[0] = FamilyTag;
        Keys.Write(key.AsSpan(1), userId);
        BinaryPrimitives.WriteUInt32BigEndian(key.AsSpan(9), deviceId);
        return key;
    }

    private static byte[] UserTokenKey(ulong userId, byte[] hash)
    {
        var key = new byte[8 + TokenHashSize];
        Keys.Write(key, userId);
        hash.CopyTo(key, 8);
        return key;
    }

    private byte[]? Get(ReadOnlySpan<byte> key, ColumnFamilyHandle family)
    {
        Enter();
        try
        {
            return _db.Get(key, Current(family), _pointRead);
        }
        finally
        {
            Exit();
        }
    }
}
