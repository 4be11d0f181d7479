using Wren.Protocol;
using Wren.Protocol.Messages;
using Wren.Storage;
using StoreKind = Wren.Storage.ConversationKind;
using StoreRole = Wren.Storage.MemberRole;

namespace Wren.Broker.Core;

/// <summary>Conversations, members, receipts, typing, presence and users.</summary>
public sealed partial class Session
{
    private async Task CreateGroupAsync(CreateGroup create, uint requestId)
    {
        if (!RequireRequestId(requestId, MessageType.CreateGroup) || !TakeCreationToken(requestId))
        {
            return;
        }

        var members = create.Members.Where(id => id != UserId).Distinct().ToList();
        if (members.Count + 1 > _core.Limits.MaxGroupMembers)
        {
            ReplyError(requestId, ErrorCode.LimitExceeded, "too many members");
            return;
        }

        if (!AllUsersExist(members, requestId) || !WithinConversationLimit([UserId, .. members], requestId))
        {
            return;
        }

        var record = await _core.Conversations.CreateGroupAsync(UserId, create.Title, members).ConfigureAwait(false);
        OnJoined(record.ConversationId, [UserId, .. members]);
        AuditConversation(AuditAction.MembersAdded, 0, record.ConversationId, $"created with {members.Count + 1} members");
        Reply(Frames.Encode(requestId, Describe(record)));
    }

    private async Task OpenDirectAsync(OpenDirect open, uint requestId)
    {
        if (!RequireRequestId(requestId, MessageType.OpenDirect) || !TakeCreationToken(requestId))
        {
            return;
        }

        if (open.PeerUserId == UserId || _core.Users.GetUser(open.PeerUserId) is not { Disabled: false })
        {
            ReplyError(requestId, ErrorCode.NotFound, "user not found");
            return;
        }

        // Only a conversation created now starts both users at its head; opening an existing one moves no cursor.
        var existing = _core.Conversations.FindDirect(UserId, open.PeerUserId);
        var record = existing ?? await _core.Conversations.GetOrCreateDirectAsync(UserId, open.PeerUserId).ConfigureAwait(false);
        if (existing is null)
        {
            OnJoined(record.ConversationId, [UserId, open.PeerUserId]);
        }

        Reply(Frames.Encode(requestId, Describe(record)));
    }

    private async Task AddMembersAsync(AddMembers add, uint requestId)
    {
        if (!RequireRequestId(requestId, MessageType.AddMembers)
            || !Authorize(Operation.AddMembers, add.ConversationId, requestId, out _, out var conversation))
        {
            return;
        }

        var users = add.UserIds.Distinct().ToList();
        if (conversation.MemberCount + users.Count > _core.Limits.MaxGroupMembers)
        {
            ReplyError(requestId, ErrorCode.LimitExceeded, "too many members");
            return;
        }

        if (!AllUsersExist(users, requestId) || !WithinConversationLimit(users, requestId))
        {
            return;
        }

        var added = await _core.Conversations.AddMembersAsync(add.ConversationId, users).ConfigureAwait(false);
        OnJoined(add.ConversationId, added);
        foreach (var userId in added)
        {
            AuditConversation(AuditAction.MembersAdded, userId, add.ConversationId, null);
        }

        Reply(Frames.Empty(MessageType.Ok, requestId));
    }

    private async Task RemoveMembersAsync(RemoveMembers remove, uint requestId)
    {
        // Naming only oneself is leaving; anything else is removing others (and, when listed, leaving too).
        bool leavingOnly = remove.UserIds.All(id => id == UserId);
        var operation = leavingOnly ? Operation.Leave : Operation.RemoveMembers;
        if (!RequireRequestId(requestId, MessageType.RemoveMembers) || !Authorize(operation, remove.ConversationId, requestId))
        {
            return;
        }

        IReadOnlyList<ulong> removed;
        await _core.RoleChanges.WaitAsync().ConfigureAwait(false);
        try
        {
            // Checked under the lock that also serializes role changes, so the owner count cannot change meanwhile.
            if (!Authorize(operation, remove.ConversationId, requestId, out var self, out _))
            {
                return;
            }

            int owners = CountOwners(remove.ConversationId);
            foreach (var id in remove.UserIds.Distinct())
            {
                var verdict = id == UserId
                    ? Permissions.CheckLeave(self.Role, owners)
                    : _core.Conversations.GetMember(remove.ConversationId, id) is { } target
                        ? Permissions.CheckRemove(self.Role, target.Role)
                        : Verdict.Allow;
                if (!Answer(verdict, requestId))
                {
                    return;
                }
            }

            removed = await _core.Conversations.RemoveMembersAsync(remove.ConversationId, remove.UserIds.Distinct().ToList()).ConfigureAwait(false);
        }
        finally
        {
            _core.RoleChanges.Release();
        }

        foreach (var userId in removed)
        {
            AuditConversation(AuditAction.MembersRemoved, userId, remove.ConversationId, userId == UserId ? "left" : null);
        }

        Reply(Frames.Empty(MessageType.Ok, requestId));
    }

    private void OnListMembers(ListMembers list, uint requestId)
    {
        if (!RequireRequestId(requestId, MessageType.ListMembers) || !Authorize(Operation.ListMembers, list.ConversationId, requestId))
        {
            return;
        }

        int limit = list.Limit == 0 ? _core.ProtocolLimits.MaxListItems : (int)Math.Min(list.Limit, (uint)_core.ProtocolLimits.MaxListItems);
        var members = _core.Conversations.ListMembers(list.ConversationId, list.AfterUserId, limit + 1);
        Reply(Frames.Encode(requestId, new MemberList
        {
            ConversationId = list.ConversationId,
            Members = [.. members.Take(limit).Select(m => new MemberInfo { UserId = m.UserId, Role = (Protocol.Messages.MemberRole)m.Role, JoinedMs = m.JoinedMs })],
            More = members.Count > limit,
        }));
    }

    private void OnListConversations(ListConversations list, uint requestId)
    {
        if (!RequireRequestId(requestId, MessageType.ListConversations))
        {
            return;
        }

        int limit = list.Limit == 0 ? _core.Limits.MaxHistoryPage : (int)Math.Min(list.Limit, (uint)_core.ProtocolLimits.MaxListItems);
        var ids = _core.Conversations.GetUserConversations(UserId).Where(id => id > list.AfterConversationId).Take(limit + 1).ToList();
        var items = new List<ConversationInfo>(Math.Min(ids.Count, limit));
        foreach (var id in ids.Take(limit))
        {
            if (_core.Conversations.GetConversation(id) is { } record)
            {
                items.Add(Describe(record));
            }
        }

        Reply(Frames.Encode(requestId, new ConversationList { Items = [.. items], More = ids.Count > limit }));
    }

    private void OnMarkRead(MarkRead read, uint requestId)
    {
        if (!RequireRequestId(requestId, MessageType.MarkRead) || !Authorize(Operation.MarkRead, read.ConversationId, requestId))
        {
            return;
        }

        var head = _core.Log.GetHead(read.ConversationId)!.Value;
        ulong before = _core.Cursors.GetRead(UserId, read.ConversationId);
        ulong after = _core.Cursors.AdvanceRead(UserId, read.ConversationId, Math.Min(read.Seq, head.Head));
        Reply(Frames.Empty(MessageType.Ok, requestId));
        if (after == before)
        {
            return;
        }

        var receipt = Frames.Encode(0, new ReadReceipt { ConversationId = read.ConversationId, UserId = UserId, Seq = after });
        var conversation = _core.Conversations.GetConversation(read.ConversationId)!;
        IEnumerable<ulong> audience = conversation.MemberCount <= _core.Limits.MaxReceiptFanOut
            ? _core.Conversations.GetMemberIds(read.ConversationId)
            : [UserId];
        foreach (var userId in audience)
        {
            foreach (var session in _core.Registry.GetSessions(userId))
            {
                if (session != this)
                {
                    session.Sink.TrySend(receipt);
                }
            }
        }
    }

    private void OnTyping(Typing typing, uint requestId)
    {
        // Fire-and-forget (request id 0) typing from a non-member or a muted member gets no answer; with a request id it
        // is answered like any request. Over the rate, the answer is RateLimited either way (a push without a request id).
        if (!Authorize(Operation.Typing, typing.ConversationId, requestId))
        {
            return;
        }

        uint wait = _typingBucket.TryTake(_core.NowMs);
        if (wait != 0)
        {
            ReplyError(requestId, ErrorCode.RateLimited, "too many typing events", wait);
            return;
        }

        var frame = Frames.Encode(0, new Typing { ConversationId = typing.ConversationId, Active = typing.Active, UserId = UserId });
        foreach (var userId in _core.Conversations.GetMemberIds(typing.ConversationId))
        {
            if (userId == UserId)
            {
                continue;
            }

            foreach (var session in _core.Registry.GetSessions(userId))
            {
                session.Sink.TrySend(frame);
            }
        }

        if (requestId != 0)
        {
            Reply(Frames.Empty(MessageType.Ok, requestId));
        }
    }

    private void OnQueryPresence(QueryPresence query, uint requestId)
    {
        if (!RequireRequestId(requestId, MessageType.QueryPresence))
        {
            return;
        }

        var mine = _core.Conversations.GetUserConversations(UserId);
        var items = new List<Presence>();
        foreach (var userId in query.UserIds.Distinct())
        {
            if (userId == UserId || SharesConversation(mine, _core.Conversations.GetUserConversations(userId)))
            {
                items.Add(DescribePresence(userId));
            }
        }

        Reply(Frames.Encode(requestId, new PresenceList { Items = [.. items] }));
    }

    private void OnResolveUsers(ResolveUsers resolve, uint requestId)
    {
        if (!RequireRequestId(requestId, MessageType.ResolveUsers))
        {
            return;
        }

        var found = new Dictionary<ulong, UserRecord>();
        foreach (var id in resolve.UserIds)
        {
            if (_core.Users.GetUser(id) is { } user)
            {
                found[user.UserId] = user;
            }
        }

        foreach (var name in resolve.UserNames)
        {
            if (_core.Users.FindUser(name) is { } user)
            {
                found[user.UserId] = user;
            }
        }

        Reply(Frames.Encode(requestId, new UserList
        {
            Items = [.. found.Values.Select(u => new UserInfo { UserId = u.UserId, UserName = u.UserName, DisplayName = u.DisplayName })],
        }));
    }

    /// <summary>
    /// New members start at the conversation's current head on every device (earlier history is available through
    /// History, not pushed), and their connected sessions go live for it at once.
    /// </summary>
    private void OnJoined(ulong conversationId, IReadOnlyList<ulong> users)
    {
        var head = _core.Log.GetHead(conversationId) ?? default;
        foreach (var userId in users)
        {
            foreach (var device in _core.Users.ListDevices(userId))
            {
                _core.Cursors.AdvanceDelivered(userId, device.DeviceId, conversationId, head.Head);
            }

            _core.Cursors.AdvanceRead(userId, conversationId, head.Head);
            foreach (var session in _core.Registry.GetSessions(userId))
            {
                _ = session.CatchUpAsync(conversationId, head.Head, _core.Limits.MaxSyncBatch, 0);
            }
        }
    }

    /// <summary>Takes a conversation-creation token for this user; answers RateLimited when there is none.</summary>
    private bool TakeCreationToken(uint requestId)
    {
        uint wait = _core.ConversationCreations.TryTake(UserId, _core.NowMs);
        if (wait != 0)
        {
            ReplyError(requestId, ErrorCode.RateLimited, "too many conversations created", wait);
            return false;
        }

        return true;
    }

    private bool AllUsersExist(IEnumerable<ulong> users, uint requestId)
    {
        foreach (var id in users)
        {
            if (_core.Users.GetUser(id) is not { Disabled: false })
            {
                ReplyError(requestId, ErrorCode.NotFound, $"user {id} not found");
                return false;
            }
        }

        return true;
    }

    private bool WithinConversationLimit(IEnumerable<ulong> users, uint requestId)
    {
        foreach (var id in users)
        {
            if (_core.Conversations.GetUserConversations(id).Count >= _core.Limits.MaxConversationsPerUser)
            {
                ReplyError(requestId, ErrorCode.LimitExceeded, $"user {id} is in too many conversations");
                return false;
            }
        }

        return true;
    }

    private ConversationInfo Describe(ConversationRecord record) => Describe(record, UserId);

    /// <summary>The conversation as <paramref name="userId"/> sees it: that user's role, read cursor and peer.</summary>
    private ConversationInfo Describe(ConversationRecord record, ulong userId)
    {
        var head = _core.Log.GetHead(record.ConversationId) ?? default;
        var me = _core.Conversations.GetMember(record.ConversationId, userId);
        ulong peer = 0;
        if (record.Kind == StoreKind.Direct)
        {
            foreach (var id in _core.Conversations.GetMemberIds(record.ConversationId))
            {
                if (id != userId)
                {
                    peer = id;
                }
            }
        }

        return new ConversationInfo
        {
            ConversationId = record.ConversationId,
            Kind = (Protocol.Messages.ConversationKind)record.Kind,
            Title = record.Title,
            Epoch = head.Epoch,
            Head = head.Head,
            MemberCount = (uint)record.MemberCount,
            CreatedMs = record.CreatedMs,
            MyRole = (Protocol.Messages.MemberRole)(me?.Role ?? StoreRole.Member),
            ReadSeq = _core.Cursors.GetRead(userId, record.ConversationId),
            PeerUserId = peer,
        };
    }

    private Presence DescribePresence(ulong userId) => new()
    {
        UserId = userId,
        Status = _core.Registry.IsOnline(userId) ? PresenceStatus.Online : PresenceStatus.Offline,
        LastSeenMs = _core.Registry.LastSeenMs(userId),
    };

    private void PushPresence(PresenceStatus status)
    {
        var frame = Frames.Encode(0, new Presence { UserId = UserId, Status = status, LastSeenMs = _core.Registry.LastSeenMs(UserId) });
        var audience = new HashSet<ulong>();
        foreach (var conversationId in _core.Conversations.GetUserConversations(UserId))
        {
            var members = _core.Conversations.GetMemberIds(conversationId);
            if (members.Count <= _core.Limits.MaxReceiptFanOut)
            {
                audience.UnionWith(members);
            }
        }

        audience.Remove(UserId);
        foreach (var userId in audience)
        {
            foreach (var session in _core.Registry.GetSessions(userId))
            {
                session.Sink.TrySend(frame);
            }
        }
    }

    private static bool SharesConversation(IReadOnlyList<ulong> a, IReadOnlyList<ulong> b)
    {
        int i = 0, j = 0;
        while (i < a.Count && j < b.Count)
        {
            if (a[i] == b[j]) return true;
            if (a[i] < b[j]) i++;
            else j++;
        }

        return false;
    }
}
