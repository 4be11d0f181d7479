using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Text;
using RocksDbSharp;
using Wren.Storage.Internal;

namespace Wren.Storage;

/// <remarks>
/// Moderation state lives in the meta column family under three prefixes: <c>mod.s | conv(8)</c> → flags (group
/// settings), <c>mod.r | conv(8) | seq(8)</c> → user(8) | client msg id (retracted messages) and
/// <c>mod.h | user(8) | conv(8) | seq(8)</c> → empty (messages a user hid). It is read into memory on first use.
/// </remarks>
public sealed partial class WrenStore : IModerationStore
{
    private static readonly byte[] s_settingsPrefix = Encoding.ASCII.GetBytes("mod.s");
    private static readonly byte[] s_retractedPrefix = Encoding.ASCII.GetBytes("mod.r");
    private static readonly byte[] s_hiddenPrefix = Encoding.ASCII.GetBytes("mod.h");
    private readonly WriteBatch _operationBatch = new();
    private readonly ConcurrentDictionary<ulong, bool> _readOnly = new();
    private readonly ConcurrentDictionary<(ulong Conversation, ulong Seq), (ulong UserId, string ClientMsgId)> _retracted = new();
    private readonly ConcurrentDictionary<(ulong User, ulong Conversation), ImmutableSortedSet<ulong>> _hidden = new();

    /// <summary>Retracted messages per conversation (changed on the writer thread, or while loading).</summary>
    private readonly ConcurrentDictionary<ulong, int> _retractedPerConversation = new();
    private readonly Lock _moderationLoad = new();
    private volatile bool _moderationLoaded;

    /// <inheritdoc/>
    /// <remarks>The owner is always a member with <see cref="MemberRole.Owner"/>; duplicates in the list are ignored.</remarks>
    public ValueTask<ConversationRecord> CreateGroupAsync(ulong ownerUserId, string title, IReadOnlyCollection<ulong> memberUserIds)
    {
        ArgumentNullException.ThrowIfNull(title);
        ArgumentNullException.ThrowIfNull(memberUserIds);
        var members = new Dictionary<ulong, MemberRole>();
        foreach (var userId in memberUserIds)
        {
            members[userId] = MemberRole.Member;
        }

        members[ownerUserId] = MemberRole.Owner;
        return new ValueTask<ConversationRecord>(RunOnWriterAsync(() => CreateConversationCore(ConversationKind.Group, title, members, null)));
    }

    /// <inheritdoc/>
    public ConversationRecord? FindDirect(ulong userA, ulong userB)
    {
        var pair = (Math.Min(userA, userB), Math.Max(userA, userB));
        return _directs.TryGetValue(pair, out var id) && _conversations.TryGetValue(id, out var state) ? state.Record : null;
    }

    /// <inheritdoc/>
    /// <remarks>A user may have a direct conversation with themself (one member).</remarks>
    public ValueTask<ConversationRecord> GetOrCreateDirectAsync(ulong userA, ulong userB)
    {
        var pair = (Math.Min(userA, userB), Math.Max(userA, userB));
        if (_directs.TryGetValue(pair, out var existing) && _conversations.TryGetValue(existing, out var state))
        {
            return new ValueTask<ConversationRecord>(state.Record);
        }

        return new ValueTask<ConversationRecord>(RunOnWriterAsync(() =>
        {
            if (_directs.TryGetValue(pair, out var id) && _conversations.TryGetValue(id, out var created))
            {
                return created.Record;
            }

            var members = new Dictionary<ulong, MemberRole> { [userA] = MemberRole.Member, [userB] = MemberRole.Member };
            return CreateConversationCore(ConversationKind.Direct, "", members, pair);
        }));
    }

    private ConversationRecord CreateConversationCore(
        ConversationKind kind, string title, Dictionary<ulong, MemberRole> members, (ulong Low, ulong High)? directPair)
    {
        var id = _nextConversationId;
        var now = NowMs();
        var batch = _operationBatch;
        batch.Clear();
        Span<byte> key = stackalloc byte[16];
        Keys.Conversation(key, id, Keys.ConversationMetaTag);
        batch.Put(key[..9], Codec.WriteConversationMeta(kind, now, title), _conversationsCf);
        Keys.Conversation(key, id, Keys.ConversationHeadTag);
        Span<byte> head = stackalloc byte[Codec.HeadValueSize];
        Codec.WriteEpochSeq(head, InitialEpoch, 0);
        batch.Put(key[..9], head, _conversationsCf);
        batch.Put(Keys.NextConversationKey, Keys.U64(id + 1), _metaCf);

        var snapshot = new Dictionary<ulong, Member>(members.Count);
        foreach (var (userId, role) in members)
        {
            PutMember(batch, id, userId, role, now);
            snapshot[userId] = new Member(userId, role, now);
        }

        if (directPair is { } pair)
        {
            batch.Put(Keys.Pair(pair.Low, pair.High), Keys.U64(id), _directCf);
        }

        WriteDurably(batch);
        _nextConversationId = id + 1;
        var state = new ConversationState(id, kind, title, now, InitialEpoch, 0);
        state.SetMembers(new MembershipSnapshot(snapshot));
        _conversations[id] = state;
        foreach (var userId in members.Keys)
        {
            IndexAdd(userId, id);
        }

        if (directPair is { } published)
        {
            _directs[published] = id;
        }

        return state.Record;
    }

    private void PutMember(WriteBatch batch, ulong conversationId, ulong userId, MemberRole role, long joinedMs)
    {
        batch.Put(Keys.Pair(conversationId, userId), Codec.WriteMember(role, joinedMs), _membersCf);
        batch.Put(Keys.Pair(userId, conversationId), ReadOnlySpan<byte>.Empty, _userConversationsCf);
    }

    /// <inheritdoc/>
    public ConversationRecord? GetConversation(ulong conversationId) =>
        _conversations.TryGetValue(conversationId, out var state) ? state.Record : null;

    /// <inheritdoc/>
    /// <remarks>An unknown conversation adds nobody (empty list).</remarks>
    public ValueTask<IReadOnlyList<ulong>> AddMembersAsync(ulong conversationId, IReadOnlyCollection<ulong> userIds, MemberRole role = MemberRole.Member)
    {
        ArgumentNullException.ThrowIfNull(userIds);
        var requested = userIds.ToArray();
        return new ValueTask<IReadOnlyList<ulong>>(RunOnWriterAsync<IReadOnlyList<ulong>>(() =>
        {
            if (!_conversations.TryGetValue(conversationId, out var state))
            {
                return [];
            }

            var current = state.Members.ByUser;
            var added = new List<ulong>();
            var now = NowMs();
            var batch = _operationBatch;
            batch.Clear();
            foreach (var userId in requested)
            {
                if (!current.ContainsKey(userId) && !added.Contains(userId))
                {
                    PutMember(batch, conversationId, userId, role, now);
                    added.Add(userId);
                }
            }

            if (added.Count == 0)
            {
                return added;
            }

            WriteDurably(batch);
            var next = new Dictionary<ulong, Member>(current);
            foreach (var userId in added)
            {
                next[userId] = new Member(userId, role, now);
            }

            state.SetMembers(new MembershipSnapshot(next));
            foreach (var userId in added)
            {
                IndexAdd(userId, conversationId);
            }

            return added;
        }));
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<ulong>> RemoveMembersAsync(ulong conversationId, IReadOnlyCollection<ulong> userIds)
    {
        ArgumentNullException.ThrowIfNull(userIds);
        var requested = userIds.ToArray();
        return new ValueTask<IReadOnlyList<ulong>>(RunOnWriterAsync<IReadOnlyList<ulong>>(() =>
        {
            if (!_conversations.TryGetValue(conversationId, out var state))
            {
                return [];
            }

            var current = state.Members.ByUser;
            var removed = new List<ulong>();
            var batch = _operationBatch;
            batch.Clear();
            foreach (var userId in requested)
            {
                if (current.ContainsKey(userId) && !removed.Contains(userId))
                {
                    batch.Delete(Keys.Pair(conversationId, userId), _membersCf);
                    batch.Delete(Keys.Pair(userId, conversationId), _userConversationsCf);
                    removed.Add(userId);
                }
            }

            if (removed.Count == 0)
            {
                return removed;
            }

            WriteDurably(batch);
            var next = new Dictionary<ulong, Member>(current);
            foreach (var userId in removed)
            {
                next.Remove(userId);
                IndexRemove(userId, conversationId);
            }

            state.SetMembers(new MembershipSnapshot(next));
            return removed;
        }));
    }

    /// <inheritdoc/>
    public ValueTask<bool> SetRoleAsync(ulong conversationId, ulong userId, MemberRole role) => new(RunOnWriterAsync(() =>
    {
        if (!_conversations.TryGetValue(conversationId, out var state) || !state.Members.ByUser.TryGetValue(userId, out var member))
        {
            return false;
        }

        if (member.Role == role)
        {
            return true;
        }

        var batch = _operationBatch;
        batch.Clear();
        batch.Put(Keys.Pair(conversationId, userId), Codec.WriteMember(role, member.JoinedMs), _membersCf);
        WriteDurably(batch);
        var next = new Dictionary<ulong, Member>(state.Members.ByUser) { [userId] = member with { Role = role } };
        state.SetMembers(new MembershipSnapshot(next));
        return true;
    }));

    /// <inheritdoc/>
    public Member? GetMember(ulong conversationId, ulong userId) =>
        _conversations.TryGetValue(conversationId, out var state) && state.Members.ByUser.TryGetValue(userId, out var member)
            ? member
            : null;

    /// <inheritdoc/>
    public IReadOnlyList<Member> ListMembers(ulong conversationId, ulong afterUserId, int limit)
    {
        if (limit <= 0 || !_conversations.TryGetValue(conversationId, out var state))
        {
            return [];
        }

        var members = state.Members;
        var ids = members.Ids.AsSpan();
        var start = ids.BinarySearch(afterUserId);
        start = start >= 0 ? start + 1 : ~start;
        var count = Math.Min(limit, ids.Length - start);
        if (count <= 0)
        {
            return [];
        }

        var page = new Member[count];
        for (var i = 0; i < count; i++)
        {
            page[i] = members.ByUser[ids[start + i]];
        }

        return page;
    }

    /// <inheritdoc/>
    /// <remarks>The list is an immutable snapshot shared by every caller until the membership changes; it is not copied.</remarks>
    public IReadOnlyList<ulong> GetMemberIds(ulong conversationId) =>
        _conversations.TryGetValue(conversationId, out var state) ? state.Members.IdList : [];

    /// <inheritdoc/>
    /// <remarks>The list is a shared snapshot; it must not be modified.</remarks>
    public IReadOnlyList<ulong> GetUserConversations(ulong userId) =>
        _userConversations.TryGetValue(userId, out var conversations) ? conversations : [];

    /// <summary>Adds a conversation to a user's index (writer thread; copy on write).</summary>
    private void IndexAdd(ulong userId, ulong conversationId)
    {
        var current = _userConversations.TryGetValue(userId, out var list) ? list : [];
        var at = Array.BinarySearch(current, conversationId);
        if (at >= 0)
        {
            return;
        }

        at = ~at;
        var next = new ulong[current.Length + 1];
        Array.Copy(current, next, at);
        next[at] = conversationId;
        Array.Copy(current, at, next, at + 1, current.Length - at);
        _userConversations[userId] = next;
    }

    private void IndexRemove(ulong userId, ulong conversationId)
    {
        if (!_userConversations.TryGetValue(userId, out var current))
        {
            return;
        }

        var at = Array.BinarySearch(current, conversationId);
        if (at < 0)
        {
            return;
        }

        if (current.Length == 1)
        {
            _userConversations.TryRemove(userId, out _);
            return;
        }

        var next = new ulong[current.Length - 1];
        Array.Copy(current, next, at);
        Array.Copy(current, at + 1, next, at, current.Length - at - 1);
        _userConversations[userId] = next;
    }

    /// <inheritdoc/>
    public bool IsReadOnly(ulong conversationId)
    {
        EnsureModerationLoaded();
        return _readOnly.TryGetValue(conversationId, out var readOnly) && readOnly;
    }

    /// <inheritdoc/>
    public ValueTask<ConversationRecord?> UpdateGroupAsync(ulong conversationId, string? title, bool? readOnly)
    {
        EnsureModerationLoaded();
        return new ValueTask<ConversationRecord?>(RunOnWriterAsync(() =>
        {
            if (!_conversations.TryGetValue(conversationId, out var state))
            {
                return null;
            }

            var batch = _operationBatch;
            batch.Clear();
            if (title is not null && title != state.Title)
            {
                Span<byte> key = stackalloc byte[9];
                Keys.Conversation(key, conversationId, Keys.ConversationMetaTag);
                batch.Put(key, Codec.WriteConversationMeta(state.Kind, state.CreatedMs, title), _conversationsCf);
            }

            if (readOnly is { } flag)
            {
                batch.Put(ModerationKey(s_settingsPrefix, conversationId), new[] { flag ? (byte)1 : (byte)0 }, _metaCf);
            }

            if (batch.Count() > 0)
            {
                WriteDurably(batch);
            }

            if (title is not null)
            {
                state.SetTitle(title);
            }

            if (readOnly is { } applied)
            {
                _readOnly[conversationId] = applied;
            }

            return (ConversationRecord?)state.Record;
        }));
    }

    /// <inheritdoc/>
    public ValueTask<RetractionClaim> ClaimRetractionAsync(ulong conversationId, ulong seq, ulong userId, string clientMsgId)
    {
        EnsureModerationLoaded();
        return new ValueTask<RetractionClaim>(RunOnWriterAsync(() =>
        {
            if (_retracted.TryGetValue((conversationId, seq), out var existing))
            {
                return new RetractionClaim(false, existing.UserId, existing.ClientMsgId);
            }

            var value = new byte[8 + Encoding.UTF8.GetByteCount(clientMsgId)];
            BinaryPrimitives.WriteUInt64BigEndian(value, userId);
            Encoding.UTF8.GetBytes(clientMsgId, value.AsSpan(8));
            var batch = _operationBatch;
            batch.Clear();
            batch.Put(ModerationKey(s_retractedPrefix, conversationId, seq), value, _metaCf);
            WriteDurably(batch);
            _retracted[(conversationId, seq)] = (userId, clientMsgId);
            _retractedPerConversation.AddOrUpdate(conversationId, 1, (_, count) => count + 1);
            return new RetractionClaim(true, userId, clientMsgId);
        }));
    }

    /// <inheritdoc/>
    public ValueTask ReleaseRetractionAsync(ulong conversationId, ulong seq)
    {
        EnsureModerationLoaded();
        return new ValueTask(RunOnWriterAsync(() =>
        {
            var batch = _operationBatch;
            batch.Clear();
            batch.Delete(ModerationKey(s_retractedPrefix, conversationId, seq), _metaCf);
            WriteDurably(batch);
            if (_retracted.TryRemove((conversationId, seq), out _))
            {
                _retractedPerConversation.AddOrUpdate(conversationId, 0, (_, count) => count - 1);
            }

            return true;
        }));
    }

    /// <inheritdoc/>
    public bool IsRetracted(ulong conversationId, ulong seq)
    {
        EnsureModerationLoaded();
        return _retracted.ContainsKey((conversationId, seq));
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<ulong>> HideAsync(ulong userId, ulong conversationId, IReadOnlyCollection<ulong> seqs)
    {
        ArgumentNullException.ThrowIfNull(seqs);
        EnsureModerationLoaded();
        var requested = seqs.ToArray();
        return new ValueTask<IReadOnlyList<ulong>>(RunOnWriterAsync<IReadOnlyList<ulong>>(() =>
        {
            var current = _hidden.TryGetValue((userId, conversationId), out var set) ? set : [];
            var added = requested.Where(seq => !current.Contains(seq)).Distinct().Order().ToList();
            if (added.Count == 0)
            {
                return added;
            }

            var batch = _operationBatch;
            batch.Clear();
            foreach (var seq in added)
            {
                batch.Put(ModerationKey(s_hiddenPrefix, userId, conversationId, seq), ReadOnlySpan<byte>.Empty, _metaCf);
            }

            WriteDurably(batch);
            _hidden[(userId, conversationId)] = current.Union(added);
            return added;
        }));
    }

    /// <inheritdoc/>
    public bool MayHideAny(ulong userId, ulong conversationId)
    {
        EnsureModerationLoaded();
        return (_retractedPerConversation.TryGetValue(conversationId, out int retracted) && retracted > 0)
            || _hidden.ContainsKey((userId, conversationId));
    }

    /// <inheritdoc/>
    public bool IsHidden(ulong userId, ulong conversationId, ulong seq)
    {
        EnsureModerationLoaded();
        return _hidden.TryGetValue((userId, conversationId), out var set) && set.Contains(seq);
    }

    /// <inheritdoc/>
    public IReadOnlyList<ulong> ListHidden(ulong userId, ulong conversationId, ulong afterSeq, int limit)
    {
        EnsureModerationLoaded();
        if (limit <= 0 || !_hidden.TryGetValue((userId, conversationId), out var set))
        {
            return [];
        }

        return [.. set.Where(seq => seq > afterSeq).Take(limit)];
    }

    private static byte[] ModerationKey(byte[] prefix, params ReadOnlySpan<ulong> parts)
    {
        var key = new byte[prefix.Length + (8 * parts.Length)];
        prefix.CopyTo(key, 0);
        for (int i = 0; i < parts.Length; i++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(key.AsSpan(prefix.Length + (8 * i)), parts[i]);
        }

        return key;
    }

    /// <summary>Reads the moderation records into memory once (a prefix scan of the meta column family).</summary>
    private void EnsureModerationLoaded()
    {
        if (_moderationLoaded)
        {
            return;
        }

        lock (_moderationLoad)
        {
            if (_moderationLoaded)
            {
                return;
            }

            int at = s_settingsPrefix.Length;
            Scan(_metaCf, s_settingsPrefix, (key, value) =>
                _readOnly[Keys.ReadU64(key[at..])] = value.Length > 0 && (value[0] & 1) != 0);
            Scan(_metaCf, s_retractedPrefix, (key, value) =>
                _retracted[(Keys.ReadU64(key[at..]), Keys.ReadU64(key[(at + 8)..]))] = (Keys.ReadU64(value), Encoding.UTF8.GetString(value[8..])));
            foreach (var (conversation, _) in _retracted.Keys)
            {
                _retractedPerConversation.AddOrUpdate(conversation, 1, (_, count) => count + 1);
            }

            var hidden = new Dictionary<(ulong, ulong), List<ulong>>();
            Scan(_metaCf, s_hiddenPrefix, (key, _) =>
            {
                var owner = (Keys.ReadU64(key[at..]), Keys.ReadU64(key[(at + 8)..]));
                if (!hidden.TryGetValue(owner, out var list))
                {
                    hidden[owner] = list = [];
                }

                list.Add(Keys.ReadU64(key[(at + 16)..]));
            });
            foreach (var (owner, list) in hidden)
            {
                _hidden[owner] = [.. list];
            }

            _moderationLoaded = true;
        }
    }
}
