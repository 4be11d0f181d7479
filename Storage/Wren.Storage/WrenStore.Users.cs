using System.Text;
using RocksDbSharp;
using Wren.Storage.Internal;

namespace Wren.Storage;

public sealed partial class WrenStore
{
    private const int TokenHashSize = 32;

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
            return _db.Get(key, family, _pointRead);
        }
        finally
        {
            Exit();
        }
    }
}
