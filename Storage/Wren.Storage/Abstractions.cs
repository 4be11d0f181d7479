namespace Wren.Storage;

/// <summary>How an append is made durable before it is acknowledged.</summary>
public enum DurabilityMode
{
    /// <summary>The WAL is fsynced (group commit) before any waiter is completed. Nothing acknowledged is lost on power failure.</summary>
    Sync = 0,

    /// <summary>
    /// The WAL is written to the OS but not fsynced. Survives a process crash; a power failure or kernel crash loses the
    /// appends of roughly the last second that the OS had not yet written back.
    /// </summary>
    Async = 1,
}

/// <summary>Kind of a conversation (same values as the wire's ConversationKind).</summary>
public enum ConversationKind : byte
{
    /// <summary>Between exactly two users.</summary>
    Direct = 1,

    /// <summary>A group.</summary>
    Group = 2,
}

/// <summary>Role of a member (same values as the wire's MemberRole).</summary>
public enum MemberRole : byte
{
    /// <summary>Regular member.</summary>
    Member = 0,

    /// <summary>May not send.</summary>
    Muted = 1,

    /// <summary>Manages members.</summary>
    Admin = 2,

    /// <summary>Owns the group.</summary>
    Owner = 3,
}

/// <summary>One append request.</summary>
/// <param name="ConversationId">The conversation (must exist).</param>
/// <param name="SenderUserId">The author.</param>
/// <param name="SenderDeviceId">The author's device.</param>
/// <param name="ClientMsgId">Unique per sender; the dedup key.</param>
/// <param name="Kind">Entry kind (wire EntryKind value).</param>
/// <param name="Body">Opaque content.</param>
public sealed record AppendRequest(
    ulong ConversationId,
    ulong SenderUserId,
    uint SenderDeviceId,
    string ClientMsgId,
    ushort Kind,
    ReadOnlyMemory<byte> Body);

/// <summary>Outcome of an append.</summary>
public enum AppendStatus
{
    /// <summary>Appended and durable.</summary>
    Appended,

    /// <summary>The client message id was seen before with the same body: <see cref="AppendResult.Entry"/> is the original.</summary>
    Duplicate,

    /// <summary>The client message id was seen before with a different body; nothing was written.</summary>
    Conflict,

    /// <summary>The conversation does not exist.</summary>
    NotFound,

    /// <summary>The store could not write (for example the disk is full); nothing was acknowledged.</summary>
    Unavailable,
}

/// <summary>A stored log entry.</summary>
/// <param name="ConversationId">The conversation.</param>
/// <param name="Seq">Dense, strictly increasing within the epoch, starting at 1.</param>
/// <param name="Epoch">The log's epoch when the entry was written.</param>
/// <param name="SenderUserId">The author.</param>
/// <param name="SenderDeviceId">The author's device.</param>
/// <param name="ServerTimeMs">Append time, Unix milliseconds.</param>
/// <param name="ClientMsgId">The author's client message id.</param>
/// <param name="Kind">Entry kind.</param>
/// <param name="Body">Content (decrypted).</param>
public sealed record LogEntry(
    ulong ConversationId,
    ulong Seq,
    uint Epoch,
    ulong SenderUserId,
    uint SenderDeviceId,
    long ServerTimeMs,
    string ClientMsgId,
    ushort Kind,
    ReadOnlyMemory<byte> Body);

/// <summary>Where the continuation of an append's task runs (see <see cref="IMessageLog.AppendAsync(AppendRequest, AppendCompletion, CancellationToken)"/>).</summary>
public enum AppendCompletion
{
    /// <summary>Queued to the thread pool (the default): the continuation may take its time.</summary>
    ThreadPool,

    /// <summary>On the store's writer loop, as the batch completes: short, non-blocking continuations only.</summary>
    OnWriter,
}

/// <summary>Outcome of <see cref="IMessageLog.AppendAsync(AppendRequest, CancellationToken)"/>.</summary>
/// <param name="Status">What happened.</param>
/// <param name="Entry">The entry (new or original) for Appended and Duplicate; null otherwise.</param>
public readonly record struct AppendResult(AppendStatus Status, LogEntry? Entry);

/// <summary>A conversation's log position.</summary>
/// <param name="Epoch">Current epoch.</param>
/// <param name="Head">Last seq (0 when empty).</param>
public readonly record struct LogHead(uint Epoch, ulong Head);

/// <summary>
/// The per-conversation message logs with group commit and idempotent appends.
/// </summary>
public interface IMessageLog
{
    /// <summary>
    /// Appends one entry. Completes when the entry is durable according to the configured <see cref="DurabilityMode"/>.
    /// </summary>
    /// <remarks>
    /// Seqs are assigned by the store's single writer loop in the order appends are taken from its queue; the message,
    /// the new head and the dedup record are written in one WriteBatch. Completions of one batch happen after the
    /// <see cref="Committed"/> callback for that batch has returned.
    /// </remarks>
    ValueTask<AppendResult> AppendAsync(AppendRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// As <see cref="AppendAsync(AppendRequest, CancellationToken)"/>; with <see cref="AppendCompletion.OnWriter"/> the
    /// continuation of the returned task runs on the writer loop itself, as the batch completes, instead of being queued
    /// to the thread pool. That saves one thread hop per append (the broker answers a send from there), but the
    /// continuation then holds up the whole batch and every later one: it must be short and must never block or wait
    /// for the store. A log that cannot run continuations on its writer completes as <see cref="AppendCompletion.ThreadPool"/>.
    /// </summary>
    ValueTask<AppendResult> AppendAsync(AppendRequest request, AppendCompletion completion, CancellationToken cancellationToken = default) =>
        AppendAsync(request, cancellationToken);

    /// <summary>
    /// Called on the writer loop after each durable batch, with the entries newly appended in that batch in commit order
    /// (within a conversation: ascending seq, no gaps between consecutive calls). Must not block. Duplicates and failures
    /// are not included.
    /// </summary>
    Action<IReadOnlyList<LogEntry>>? Committed { get; set; }

    /// <summary>The conversation's epoch and head, from memory. Null when the conversation does not exist.</summary>
    LogHead? GetHead(ulong conversationId);

    /// <summary>Entries with seq in [<paramref name="fromSeq"/>, fromSeq + limit), ascending.</summary>
    IReadOnlyList<LogEntry> ReadRange(ulong conversationId, ulong fromSeq, int limit);

    /// <summary>Up to <paramref name="limit"/> entries with seq &lt; <paramref name="beforeSeq"/> (0 = from the head), returned ascending.</summary>
    IReadOnlyList<LogEntry> ReadBefore(ulong conversationId, ulong beforeSeq, int limit);
}

/// <summary>A conversation's description.</summary>
/// <param name="ConversationId">Id, allocated by the store, starting at 1.</param>
/// <param name="Kind">Direct or group.</param>
/// <param name="Title">Group title; empty for direct.</param>
/// <param name="CreatedMs">Creation time, Unix milliseconds.</param>
/// <param name="MemberCount">Current number of members.</param>
public sealed record ConversationRecord(ulong ConversationId, ConversationKind Kind, string Title, long CreatedMs, int MemberCount);

/// <summary>One membership.</summary>
/// <param name="UserId">The member.</param>
/// <param name="Role">The role.</param>
/// <param name="JoinedMs">Join time, Unix milliseconds.</param>
public readonly record struct Member(ulong UserId, MemberRole Role, long JoinedMs);

/// <summary>A conversation in which a device has entries it has not acknowledged.</summary>
/// <param name="ConversationId">The conversation.</param>
/// <param name="Epoch">Current epoch.</param>
/// <param name="Head">Current head.</param>
/// <param name="DeliveredSeq">The device's delivered cursor (0 when none, or when the cursor belongs to an older epoch).</param>
public readonly record struct PendingConversation(ulong ConversationId, uint Epoch, ulong Head, ulong DeliveredSeq);

/// <summary>Conversations, members and the per-user conversation index.</summary>
/// <remarks>
/// Membership checks and a user's conversation list are answered from memory. Large groups are fan-out on read:
/// nothing here is written per member per message.
/// </remarks>
public interface IConversationStore
{
    /// <summary>Creates a group with <paramref name="ownerUserId"/> as owner and the other users as members. Durable on return.</summary>
    ValueTask<ConversationRecord> CreateGroupAsync(ulong ownerUserId, string title, IReadOnlyCollection<ulong> memberUserIds);

    /// <summary>Finds the direct conversation of two users, creating it if needed (one per unordered pair). Durable on return.</summary>
    ValueTask<ConversationRecord> GetOrCreateDirectAsync(ulong userA, ulong userB);

    /// <summary>The direct conversation of two users, or null when it does not exist yet. From memory.</summary>
    ConversationRecord? FindDirect(ulong userA, ulong userB);

    /// <summary>The conversation, or null.</summary>
    ConversationRecord? GetConversation(ulong conversationId);

    /// <summary>Adds members (existing members keep their role). Returns the users actually added. Durable on return.</summary>
    ValueTask<IReadOnlyList<ulong>> AddMembersAsync(ulong conversationId, IReadOnlyCollection<ulong> userIds, MemberRole role = MemberRole.Member);

    /// <summary>Removes members. Returns the users actually removed. Durable on return.</summary>
    ValueTask<IReadOnlyList<ulong>> RemoveMembersAsync(ulong conversationId, IReadOnlyCollection<ulong> userIds);

    /// <summary>Sets a member's role. False when the user is not a member. Durable on return.</summary>
    ValueTask<bool> SetRoleAsync(ulong conversationId, ulong userId, MemberRole role);

    /// <summary>The membership of a user in a conversation, or null. From memory.</summary>
    Member? GetMember(ulong conversationId, ulong userId);

    /// <summary>Members with user id &gt; <paramref name="afterUserId"/>, ascending, at most <paramref name="limit"/>.</summary>
    IReadOnlyList<Member> ListMembers(ulong conversationId, ulong afterUserId, int limit);

    /// <summary>Every member's user id (for fan-out). From memory; the returned list must not be modified.</summary>
    IReadOnlyList<ulong> GetMemberIds(ulong conversationId);

    /// <summary>The user's conversation ids, ascending. From memory.</summary>
    IReadOnlyList<ulong> GetUserConversations(ulong userId);
}

/// <summary>Who first claimed the retraction (recall or delete) of a message.</summary>
/// <param name="Claimed">True when this call made the claim; false when the message was already retracted.</param>
/// <param name="UserId">The user holding the claim.</param>
/// <param name="ClientMsgId">The client message id of the retracting event.</param>
public readonly record struct RetractionClaim(bool Claimed, ulong UserId, string ClientMsgId);

/// <summary>Group settings, retracted messages and per-user hidden messages.</summary>
/// <remarks>Every read is answered from memory; every change is durable on return.</remarks>
public interface IModerationStore
{
    /// <summary>True when the group is in read-only mode (only admins and owners send).</summary>
    bool IsReadOnly(ulong conversationId);

    /// <summary>Changes a group's title and/or read-only mode (null keeps a value). Null when the conversation does not exist.</summary>
    ValueTask<ConversationRecord?> UpdateGroupAsync(ulong conversationId, string? title, bool? readOnly);

    /// <summary>
    /// Marks a message as retracted by the given event, unless it already is: then the existing claim is returned
    /// with <see cref="RetractionClaim.Claimed"/> false. Serialized on the store's writer, so one claim wins.
    /// </summary>
    ValueTask<RetractionClaim> ClaimRetractionAsync(ulong conversationId, ulong seq, ulong userId, string clientMsgId);

    /// <summary>Withdraws a claim whose event could not be appended.</summary>
    ValueTask ReleaseRetractionAsync(ulong conversationId, ulong seq);

    /// <summary>True when the message was recalled or deleted.</summary>
    bool IsRetracted(ulong conversationId, ulong seq);

    /// <summary>Hides messages from one user's view. Returns the seqs newly hidden, ascending.</summary>
    ValueTask<IReadOnlyList<ulong>> HideAsync(ulong userId, ulong conversationId, IReadOnlyCollection<ulong> seqs);

    /// <summary>True when the user hid the message.</summary>
    bool IsHidden(ulong userId, ulong conversationId, ulong seq);

    /// <summary>Seqs the user hid in the conversation above <paramref name="afterSeq"/>, ascending, at most <paramref name="limit"/>.</summary>
    IReadOnlyList<ulong> ListHidden(ulong userId, ulong conversationId, ulong afterSeq, int limit);

    /// <summary>
    /// False when no message of the conversation is retracted and the user hid none of it: a reader may then skip
    /// <see cref="IsRetracted"/> and <see cref="IsHidden"/> for each message it reads.
    /// </summary>
    bool MayHideAny(ulong userId, ulong conversationId);
}

/// <summary>Delivered cursors per (user, device, conversation) and read cursors per (user, conversation).</summary>
/// <remarks>
/// Cursors only move forward: a lower value than the stored one is ignored. Updates are applied in memory at once and
/// persisted in batches (never one fsync per update); <see cref="FlushAsync"/> forces them out.
/// </remarks>
public interface ICursorStore
{
    /// <summary>Moves the device's delivered cursor forward. Returns the cursor after the call.</summary>
    ulong AdvanceDelivered(ulong userId, uint deviceId, ulong conversationId, ulong seq);

    /// <summary>The device's delivered cursor (0 when none).</summary>
    ulong GetDelivered(ulong userId, uint deviceId, ulong conversationId);

    /// <summary>Moves the user's read cursor forward. Returns the cursor after the call.</summary>
    ulong AdvanceRead(ulong userId, ulong conversationId, ulong seq);

    /// <summary>The user's read cursor (0 when none).</summary>
    ulong GetRead(ulong userId, ulong conversationId);

    /// <summary>
    /// Every conversation of the user whose head is past the device's delivered cursor. Cost grows with the number of the
    /// user's conversations (heads and cursors are in memory) and never with history or group size.
    /// </summary>
    IReadOnlyList<PendingConversation> GetPending(ulong userId, uint deviceId);

    /// <summary>Persists every cursor update made so far. Durable on completion.</summary>
    ValueTask FlushAsync();
}

/// <summary>A user account.</summary>
/// <param name="UserId">Id, allocated by the store, starting at 1.</param>
/// <param name="UserName">Unique login name (case-sensitive, as given).</param>
/// <param name="DisplayName">Display name.</param>
/// <param name="CreatedMs">Creation time.</param>
/// <param name="Disabled">A disabled user cannot authenticate.</param>
/// <param name="IsAdmin">Server-wide administrator.</param>
public sealed record UserRecord(ulong UserId, string UserName, string DisplayName, long CreatedMs, bool Disabled, bool IsAdmin);

/// <summary>A user's device.</summary>
/// <param name="UserId">Owner.</param>
/// <param name="DeviceId">Id, unique per user, starting at 1.</param>
/// <param name="Name">Name given at creation.</param>
/// <param name="CreatedMs">Creation time.</param>
public sealed record DeviceRecord(ulong UserId, uint DeviceId, string Name, long CreatedMs);

/// <summary>A stored token. Only the SHA-256 hash of the token secret is stored.</summary>
/// <param name="TokenHash">SHA-256 of the secret (32 bytes).</param>
/// <param name="UserId">Owner.</param>
/// <param name="DeviceId">Device the token authenticates.</param>
/// <param name="CreatedMs">Issue time.</param>
/// <param name="ExpiresMs">Expiry, Unix milliseconds; 0 = never.</param>
/// <param name="Revoked">A revoked token cannot authenticate.</param>
public sealed record TokenRecord(byte[] TokenHash, ulong UserId, uint DeviceId, long CreatedMs, long ExpiresMs, bool Revoked);

/// <summary>Users, devices and tokens. The authentication logic itself lives in the broker.</summary>
public interface IUserStore
{
    /// <summary>Creates a user; null when the name is taken. Durable on return.</summary>
    ValueTask<UserRecord?> CreateUserAsync(string userName, string displayName, bool isAdmin = false);

    /// <summary>The user, or null.</summary>
    UserRecord? GetUser(ulong userId);

    /// <summary>The user with this name, or null.</summary>
    UserRecord? FindUser(string userName);

    /// <summary>Users with id &gt; <paramref name="afterUserId"/>, ascending, at most <paramref name="limit"/>.</summary>
    IReadOnlyList<UserRecord> ListUsers(ulong afterUserId, int limit);

    /// <summary>Enables or disables a user. False when the user does not exist. Durable on return.</summary>
    ValueTask<bool> SetDisabledAsync(ulong userId, bool disabled);

    /// <summary>Creates a device for the user. Durable on return.</summary>
    ValueTask<DeviceRecord> CreateDeviceAsync(ulong userId, string name);

    /// <summary>The user's devices.</summary>
    IReadOnlyList<DeviceRecord> ListDevices(ulong userId);

    /// <summary>Stores a token record. Durable on return.</summary>
    ValueTask StoreTokenAsync(TokenRecord token);

    /// <summary>The token with this hash, or null.</summary>
    TokenRecord? FindToken(ReadOnlySpan<byte> tokenHash);

    /// <summary>The user's tokens.</summary>
    IReadOnlyList<TokenRecord> ListTokens(ulong userId);

    /// <summary>Marks a token revoked. False when unknown. Durable on return.</summary>
    ValueTask<bool> RevokeTokenAsync(ReadOnlyMemory<byte> tokenHash);
}

/// <summary>A user's login credentials beyond device tokens.</summary>
/// <param name="UserId">The user.</param>
/// <param name="PasswordHash">PHC-style password hash (algorithm, parameters, salt, hash); null when none is set.</param>
/// <param name="TotpSecret">TOTP shared secret (plain here; sealed at rest when the store encrypts); null when none.</param>
/// <param name="TotpEnabled">True once enrollment was confirmed: password logins then need a code.</param>
/// <param name="LastTotpStep">The last accepted TOTP time step; a code of this step or an earlier one is refused.</param>
public sealed record CredentialRecord(ulong UserId, string? PasswordHash, byte[]? TotpSecret, bool TotpEnabled, long LastTotpStep);

/// <summary>A stored refresh token. Only the SHA-256 hash of the secret is stored.</summary>
/// <param name="TokenHash">SHA-256 of the secret (32 bytes).</param>
/// <param name="UserId">Owner.</param>
/// <param name="DeviceId">Device whose token pair it renews.</param>
/// <param name="AccessTokenHash">Hash of the access token issued with it.</param>
/// <param name="CreatedMs">Issue time.</param>
/// <param name="ExpiresMs">Expiry, Unix milliseconds.</param>
public sealed record RefreshRecord(byte[] TokenHash, ulong UserId, uint DeviceId, byte[] AccessTokenHash, long CreatedMs, long ExpiresMs);

/// <summary>What a refresh-token rotation found.</summary>
public enum RefreshOutcome
{
    /// <summary>The token was the device's current one: the new pair is stored and the old access token revoked.</summary>
    Rotated,
    /// <summary>The token is unknown or expired; nothing changed.</summary>
    NotFound,
    /// <summary>The token was already used (replaced by a newer one): the device's tokens are all revoked.</summary>
    Reused,
}

/// <summary>Passwords, TOTP state and refresh tokens. Policy (hashing, code checks) lives in the broker.</summary>
public interface ICredentialStore
{
    /// <summary>The user's credentials; a record with nulls when none were ever set.</summary>
    CredentialRecord GetCredentials(ulong userId);

    /// <summary>Sets (or with null clears) the password hash. Durable on return.</summary>
    ValueTask SetPasswordHashAsync(ulong userId, string? passwordHash);

    /// <summary>Sets the TOTP secret and whether MFA is on (null secret clears both). Durable on return.</summary>
    ValueTask SetTotpAsync(ulong userId, byte[]? secret, bool enabled);

    /// <summary>Records <paramref name="step"/> as used when it is later than the last accepted step; false otherwise. Durable on return.</summary>
    ValueTask<bool> TryUseTotpStepAsync(ulong userId, long step);

    /// <summary>Stores a refresh token as its device's only current one (replacing any earlier). Durable on return.</summary>
    ValueTask StoreRefreshAsync(RefreshRecord refresh);

    /// <summary>The refresh token with this hash, or null.</summary>
    RefreshRecord? FindRefresh(ReadOnlySpan<byte> tokenHash);

    /// <summary>
    /// Atomically replaces the device's current refresh token <paramref name="oldHash"/> by <paramref name="newRefresh"/>,
    /// stores <paramref name="newAccess"/> and revokes the old access token. A token that is not the device's current one
    /// revokes all of the device's tokens (reuse of a stolen refresh token ends the family). Durable on return.
    /// </summary>
    ValueTask<RefreshOutcome> RotateRefreshAsync(byte[] oldHash, long nowMs, TokenRecord newAccess, RefreshRecord newRefresh);

    /// <summary>Revokes every access token of the device and its refresh token. Durable on return.</summary>
    ValueTask RevokeDeviceAsync(ulong userId, uint deviceId);
}

/// <summary>Statistics of a store, for operators.</summary>
public interface IStoreStatistics
{
    /// <summary>Current sizes and counts.</summary>
    StoreStatistics GetStatistics();
}

/// <summary>Online copies of a store, for operators.</summary>
public interface IStoreCheckpoint
{
    /// <summary>
    /// Writes a consistent copy of the store into <paramref name="targetDirectory"/>, which must not exist yet. The copy
    /// opens as a store with the same data.
    /// </summary>
    /// <remarks>Completes when the copy is complete; appends and reads continue meanwhile.</remarks>
    /// <exception cref="StorageException">The directory exists, or the copy could not be written.</exception>
    Task CheckpointAsync(string targetDirectory);
}

/// <summary>Sizes and counts for operators.</summary>
/// <param name="Conversations">Number of conversations.</param>
/// <param name="Messages">Total entries over all logs (sum of heads).</param>
/// <param name="Users">Number of users.</param>
/// <param name="DiskBytes">Bytes used by the data directory's files.</param>
/// <param name="Batches">Group-commit batches written since open.</param>
/// <param name="BatchedAppends">Appends written in those batches.</param>
public readonly record struct StoreStatistics(long Conversations, long Messages, long Users, long DiskBytes, long Batches, long BatchedAppends);

/// <summary>One record of the audit log.</summary>
/// <param name="Id">Position in the log, assigned by the store: strictly increasing from 1.</param>
/// <param name="TimeMs">When it happened, Unix milliseconds.</param>
/// <param name="Action">What happened (the broker's audit action number).</param>
/// <param name="ActorUserId">Who did it (0 = anonymous or the server).</param>
/// <param name="ActorDeviceId">The actor's device (0 when unknown).</param>
/// <param name="SubjectUserId">Whom it concerns (0 when nobody in particular).</param>
/// <param name="ConversationId">The conversation it concerns (0 when none).</param>
/// <param name="Detail">Short free text (never a secret).</param>
/// <param name="RemoteAddress">The actor's address, or empty.</param>
public sealed record AuditRecord(
    ulong Id,
    long TimeMs,
    ushort Action,
    ulong ActorUserId,
    uint ActorDeviceId,
    ulong SubjectUserId,
    ulong ConversationId,
    string Detail,
    string RemoteAddress);

/// <summary>Which audit records a page keeps; a zero field does not filter.</summary>
/// <param name="UserId">Keep records whose actor or subject is this user.</param>
/// <param name="Action">Keep records of this action.</param>
/// <param name="SinceMs">Keep records at or after this time, Unix milliseconds.</param>
public readonly record struct AuditFilter(ulong UserId, ushort Action, long SinceMs);

/// <summary>A page of the audit log, ascending by id.</summary>
/// <param name="Items">The matching records.</param>
/// <param name="LastScannedId">The last id examined; the next page starts after it (filtered records are skipped, not returned).</param>
/// <param name="More">True when records after <paramref name="LastScannedId"/> exist.</param>
public sealed record AuditPage(IReadOnlyList<AuditRecord> Items, ulong LastScannedId, bool More);

/// <summary>The durable, append-only audit log. There is no update or delete.</summary>
public interface IAuditStore
{
    /// <summary>Appends records in order, giving each the next id (the ids passed in are ignored).</summary>
    /// <returns>The id of the last record written.</returns>
    /// <remarks>Completes when the records are durable according to the store's <see cref="DurabilityMode"/>.</remarks>
    /// <exception cref="StorageException">The write failed.</exception>
    Task<ulong> AppendAuditAsync(IReadOnlyList<AuditRecord> records);

    /// <summary>
    /// Reads records with ids above <paramref name="afterId"/>, ascending, keeping those that match
    /// <paramref name="filter"/>, until <paramref name="limit"/> match or <paramref name="maxScanned"/> were examined.
    /// </summary>
    AuditPage ReadAudit(ulong afterId, int limit, AuditFilter filter, int maxScanned = 10_000);
}
