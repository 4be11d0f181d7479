using Wren.Protocol;
using Wren.Protocol.Messages;
using Wren.Storage;
using StoreKind = Wren.Storage.ConversationKind;
using StoreRole = Wren.Storage.MemberRole;

namespace Wren.Broker.Core;

/// <summary>Roles, group settings, leaving, recall, edit, delete and delete-for-me; the permission gate of every conversation operation.</summary>
public sealed partial class Session
{
    private const string ConversationNotFound = "conversation not found";
    private const string MessageNotFound = "message not found";

    /// <summary>
    /// Asks <see cref="Permissions"/> whether the caller may perform <paramref name="operation"/> in the conversation,
    /// and answers the refusal (NotFound exactly as for a missing conversation, or Forbidden with the reason).
    /// </summary>
    private bool Authorize(Operation operation, ulong conversationId, uint requestId, out Member member, out ConversationRecord conversation)
    {
        var found = _core.Conversations.GetMember(conversationId, UserId);
        var record = found is null ? null : _core.Conversations.GetConversation(conversationId);
        var verdict = record is null
            ? Permissions.Check(operation, null, StoreKind.Group, false)
            : Permissions.Check(operation, found!.Value.Role, record.Kind, IsReadOnly(conversationId));
        member = found ?? default;
        conversation = record!;
        return Answer(verdict, requestId);
    }

    private bool Authorize(Operation operation, ulong conversationId, uint requestId) =>
        Authorize(operation, conversationId, requestId, out _, out _);

    /// <summary>Answers a refusal; true when allowed.</summary>
    private bool Answer(Verdict verdict, uint requestId)
    {
        if (verdict.IsAllowed)
        {
            return true;
        }

        if (requestId != 0)
        {
            if (verdict.Decision == Decision.NotFound)
            {
                ReplyError(requestId, ErrorCode.NotFound, ConversationNotFound);
            }
            else
            {
                ReplyError(requestId, ErrorCode.Forbidden, verdict.Reason);
            }
        }

        return false;
    }

    private bool IsReadOnly(ulong conversationId) => _core.Moderation?.IsReadOnly(conversationId) ?? false;

    /// <summary>Takes one send token from this device's bucket and one from the user's; 0, or the milliseconds to wait.</summary>
    private uint TakeSendToken()
    {
        long now = _core.NowMs;
        uint wait = _sendBucket.TryTake(now);
        return wait != 0 ? wait : _core.UserSends.TryTake(UserId, now);
    }

    private Func<LogEntry, LogEntry>? _visible;

    /// <summary>
    /// <see cref="Visible"/> for reading a conversation's entries, or null when nothing in it is retracted or hidden
    /// from this user (the common case: no lookup per entry, and no copy of the batch).
    /// </summary>
    internal Func<LogEntry, LogEntry>? VisibleFilter(ulong conversationId) =>
        _core.Moderation is { } moderation && moderation.MayHideAny(UserId, conversationId) ? _visible ??= Visible : null;

    /// <summary>
    /// The entry as this user is shown it in history and sync: a recalled or deleted message, one the user hid, or an
    /// edit of a recalled or deleted message carries an empty body (the event entries stay, so clients converge).
    /// </summary>
    internal LogEntry Visible(LogEntry entry)
    {
        var moderation = _core.Moderation;
        if (moderation is null)
        {
            return entry;
        }

        if (moderation.IsRetracted(entry.ConversationId, entry.Seq) || moderation.IsHidden(UserId, entry.ConversationId, entry.Seq))
        {
            return entry with { Body = ReadOnlyMemory<byte>.Empty };
        }

        if (entry.Kind == (ushort)EntryKind.Edit
            && MessageAmendment.TryReadTarget(entry.Body.Span, out ulong target)
            && moderation.IsRetracted(entry.ConversationId, target))
        {
            return entry with { Body = entry.Body[..8] };
        }

        return entry;
    }

    private void AuditConversation(AuditAction action, ulong subjectUserId, ulong conversationId, string? detail) =>
        _core.Audit.Record(new AuditEvent(action, UserId, DeviceId, subjectUserId, conversationId, detail, Sink.RemoteAddress));

    private async Task SetRoleAsync(SetRole set, uint requestId)
    {
        if (!RequireRequestId(requestId, MessageType.SetRole) || !Authorize(Operation.SetRole, set.ConversationId, requestId))
        {
            return;
        }

        var role = (StoreRole)set.Role;
        StoreRole before;
        await _core.RoleChanges.WaitAsync().ConfigureAwait(false);
        try
        {
            // Checked again under the lock: the caller's own role may have changed meanwhile.
            if (!Authorize(Operation.SetRole, set.ConversationId, requestId, out var self, out _))
            {
                return;
            }

            if (_core.Conversations.GetMember(set.ConversationId, set.UserId) is not { } target)
            {
                ReplyError(requestId, ErrorCode.NotFound, "not a member of the conversation");
                return;
            }

            before = target.Role;
            var verdict = Permissions.CheckSetRole(UserId, self.Role, set.UserId, target.Role, role, CountOwners(set.ConversationId));
            if (!Answer(verdict, requestId))
            {
                return;
            }

            await _core.Conversations.SetRoleAsync(set.ConversationId, set.UserId, role).ConfigureAwait(false);
        }
        finally
        {
            _core.RoleChanges.Release();
        }

        AuditConversation(AuditAction.RoleChanged, set.UserId, set.ConversationId, $"{before} -> {role}");
        Reply(Frames.Empty(MessageType.Ok, requestId));
    }

    private async Task UpdateGroupAsync(UpdateGroup update, uint requestId)
    {
        if (!RequireRequestId(requestId, MessageType.UpdateGroup) || !Authorize(Operation.UpdateGroup, update.ConversationId, requestId))
        {
            return;
        }

        if (_core.Moderation is not { } moderation)
        {
            ReplyError(requestId, ErrorCode.UnsupportedOperation, "group settings are not supported by this store");
            return;
        }

        var record = await moderation.UpdateGroupAsync(update.ConversationId, update.Title, update.ReadOnly).ConfigureAwait(false);
        if (record is null)
        {
            ReplyError(requestId, ErrorCode.NotFound, ConversationNotFound);
            return;
        }

        string detail = (update.Title is null ? "" : "title") + (update.ReadOnly is { } ro ? (update.Title is null ? "" : ", ") + (ro ? "read-only on" : "read-only off") : "");
        AuditConversation(AuditAction.GroupSettingsChanged, 0, update.ConversationId, detail);
        Reply(Frames.Encode(requestId, DescribeSettings(record)));
    }

    private void OnGetGroupSettings(GetGroupSettings get, uint requestId)
    {
        if (!RequireRequestId(requestId, MessageType.GetGroupSettings)
            || !Authorize(Operation.GetGroupSettings, get.ConversationId, requestId, out _, out var record))
        {
            return;
        }

        Reply(Frames.Encode(requestId, DescribeSettings(record)));
    }

    private GroupSettings DescribeSettings(ConversationRecord record) => new()
    {
        ConversationId = record.ConversationId,
        Title = record.Title,
        ReadOnly = IsReadOnly(record.ConversationId),
        RecallWindowMs = (uint)Math.Min(uint.MaxValue, _core.Limits.RecallWindow.TotalMilliseconds),
    };

    private async Task LeaveGroupAsync(LeaveGroup leave, uint requestId)
    {
        if (!RequireRequestId(requestId, MessageType.LeaveGroup) || !Authorize(Operation.Leave, leave.ConversationId, requestId))
        {
            return;
        }

        await _core.RoleChanges.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!Authorize(Operation.Leave, leave.ConversationId, requestId, out var self, out _)
                || !Answer(Permissions.CheckLeave(self.Role, CountOwners(leave.ConversationId)), requestId))
            {
                return;
            }

            await _core.Conversations.RemoveMembersAsync(leave.ConversationId, [UserId]).ConfigureAwait(false);
        }
        finally
        {
            _core.RoleChanges.Release();
        }

        AuditConversation(AuditAction.MembersRemoved, UserId, leave.ConversationId, "left");
        Reply(Frames.Empty(MessageType.Ok, requestId));
    }

    /// <summary>Recall, Edit and Delete: checks the target and the caller's rights, then appends the event entry.</summary>
    private async Task AmendAsync(MessageAmendment amendment, uint requestId)
    {
        if (!RequireRequestId(requestId, amendment.Type)
            || !Authorize(Operation.Read, amendment.ConversationId, requestId, out var self, out var conversation))
        {
            return;
        }

        var moderation = _core.Moderation;
        if (moderation is null)
        {
            ReplyError(requestId, ErrorCode.UnsupportedOperation, "recall, edit and delete are not supported by this store");
            return;
        }

        var head = _core.Log.GetHead(amendment.ConversationId) ?? default;
        var target = amendment.TargetSeq <= head.Head ? _core.Log.ReadRange(amendment.ConversationId, amendment.TargetSeq, 1) : [];
        if (target.Count == 0 || target[0].Seq != amendment.TargetSeq)
        {
            ReplyError(requestId, ErrorCode.NotFound, MessageNotFound);
            return;
        }

        var entry = target[0];
        if (entry.Kind != (ushort)EntryKind.Message)
        {
            ReplyError(requestId, ErrorCode.InvalidArgument, "target_seq: the target is not a message");
            return;
        }

        bool own = entry.SenderUserId == UserId;
        var operation = amendment switch
        {
            Recall => own ? Operation.RecallOwn : Operation.RecallOthers,
            Edit => Operation.EditOwn,
            _ => Operation.Delete,
        };
        var verdict = Permissions.Check(operation, self.Role, conversation.Kind, IsReadOnly(amendment.ConversationId));
        if (verdict.IsAllowed && amendment is Edit && !own)
        {
            verdict = Verdict.Deny("only the sender edits a message");
        }

        if (verdict.IsAllowed && operation == Operation.RecallOwn && Permissions.RecallWindowApplies(self.Role)
            && _core.NowMs - entry.ServerTimeMs > _core.Limits.RecallWindow.TotalMilliseconds)
        {
            verdict = Verdict.Deny($"the recall window of {_core.Limits.RecallWindow.TotalMilliseconds:0} ms has passed");
        }

        if (!Answer(verdict, requestId))
        {
            return;
        }

        uint wait = TakeSendToken();
        if (wait != 0)
        {
            ReplyError(requestId, ErrorCode.RateLimited, "too many sends", wait);
            return;
        }

        bool retracts = amendment is not Edit;
        bool claimed = false;
        if (retracts)
        {
            var claim = await moderation.ClaimRetractionAsync(amendment.ConversationId, amendment.TargetSeq, UserId, amendment.ClientMsgId).ConfigureAwait(false);
            if (!claim.Claimed && (claim.UserId != UserId || claim.ClientMsgId != amendment.ClientMsgId))
            {
                // Already recalled or deleted by another event; a retry of that same event goes on to the dedup below.
                ReplyError(requestId, ErrorCode.NotFound, MessageNotFound);
                return;
            }

            claimed = claim.Claimed;
        }
        else if (moderation.IsRetracted(amendment.ConversationId, amendment.TargetSeq))
        {
            ReplyError(requestId, ErrorCode.NotFound, MessageNotFound);
            return;
        }

        AppendResult result;
        try
        {
            result = await _core.Log.AppendAsync(new AppendRequest(
                amendment.ConversationId, UserId, DeviceId, amendment.ClientMsgId, (ushort)amendment.EntryKind, amendment.EventBody())).ConfigureAwait(false);
        }
        catch
        {
            if (claimed)
            {
                await moderation.ReleaseRetractionAsync(amendment.ConversationId, amendment.TargetSeq).ConfigureAwait(false);
            }

            throw;
        }

        if (claimed && result.Status is not (AppendStatus.Appended or AppendStatus.Duplicate))
        {
            await moderation.ReleaseRetractionAsync(amendment.ConversationId, amendment.TargetSeq).ConfigureAwait(false);
        }

        if (result.Status == AppendStatus.Appended && retracts)
        {
            AuditConversation(
                amendment is Recall ? AuditAction.MessageRecalled : AuditAction.MessageDeleted,
                entry.SenderUserId,
                amendment.ConversationId,
                $"seq {amendment.TargetSeq}");
        }

        ReplyAppendResult(result, requestId);
    }

    private async Task DeleteForMeAsync(DeleteForMe delete, uint requestId)
    {
        if (!RequireRequestId(requestId, MessageType.DeleteForMe) || !Authorize(Operation.DeleteForMe, delete.ConversationId, requestId))
        {
            return;
        }

        if (_core.Moderation is not { } moderation)
        {
            ReplyError(requestId, ErrorCode.UnsupportedOperation, "delete-for-me is not supported by this store");
            return;
        }

        var head = _core.Log.GetHead(delete.ConversationId) ?? default;
        if (delete.Seqs.Any(seq => seq > head.Head))
        {
            ReplyError(requestId, ErrorCode.NotFound, MessageNotFound);
            return;
        }

        var added = await moderation.HideAsync(UserId, delete.ConversationId, delete.Seqs).ConfigureAwait(false);
        Reply(Frames.Empty(MessageType.Ok, requestId));
        if (added.Count == 0)
        {
            return;
        }

        var push = Frames.Encode(0, new HiddenList { ConversationId = delete.ConversationId, Seqs = [.. added], More = false });
        foreach (var session in _core.Registry.GetSessions(UserId))
        {
            if (session != this)
            {
                session.Sink.TrySend(push);
            }
        }
    }

    private void OnListHidden(ListHidden list, uint requestId)
    {
        if (!RequireRequestId(requestId, MessageType.ListHidden) || !Authorize(Operation.DeleteForMe, list.ConversationId, requestId))
        {
            return;
        }

        int limit = list.Limit == 0 ? _core.ProtocolLimits.MaxListItems : (int)Math.Min(list.Limit, (uint)_core.ProtocolLimits.MaxListItems);
        var seqs = _core.Moderation?.ListHidden(UserId, list.ConversationId, list.AfterSeq, limit + 1) ?? [];
        Reply(Frames.Encode(requestId, new HiddenList
        {
            ConversationId = list.ConversationId,
            Seqs = [.. seqs.Take(limit)],
            More = seqs.Count > limit,
        }));
    }
}
