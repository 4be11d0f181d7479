using Wren.Protocol;
using Wren.Protocol.Messages;
using Wren.Storage;

namespace Wren.Broker.Core;

/// <summary>The operations of an authenticated session.</summary>
public sealed partial class Session
{
    private ValueTask<bool> DispatchAsync(IMessage message, uint requestId)
    {
        try
        {
            switch (message)
            {
                case Send send: return SendAsync(send, requestId);
                case Ack ack: OnAck(ack, requestId); break;
                case SyncAll sync: return AwaitOk(SyncAllAsync(sync, requestId), sync.Type, requestId);
                case SyncConversation sync: OnSyncConversation(sync, requestId); break;
                case History history: OnHistory(history, requestId); break;
                case CreateGroup create: return AwaitOk(CreateGroupAsync(create, requestId), create.Type, requestId);
                case OpenDirect open: return AwaitOk(OpenDirectAsync(open, requestId), open.Type, requestId);
                case AddMembers add: return AwaitOk(AddMembersAsync(add, requestId), add.Type, requestId);
                case RemoveMembers remove: return AwaitOk(RemoveMembersAsync(remove, requestId), remove.Type, requestId);
                case ListMembers list: OnListMembers(list, requestId); break;
                case ListConversations list: OnListConversations(list, requestId); break;
                case MarkRead read: OnMarkRead(read, requestId); break;
                case Typing typing: OnTyping(typing, requestId); break;
                case QueryPresence query: OnQueryPresence(query, requestId); break;
                case ResolveUsers resolve: OnResolveUsers(resolve, requestId); break;
                case SetRole role: return AwaitOk(SetRoleAsync(role, requestId), role.Type, requestId);
                case UpdateGroup update: return AwaitOk(UpdateGroupAsync(update, requestId), update.Type, requestId);
                case LeaveGroup leave: return AwaitOk(LeaveGroupAsync(leave, requestId), leave.Type, requestId);
                case GetGroupSettings get: OnGetGroupSettings(get, requestId); break;
                case MessageAmendment amendment: return AwaitOk(AmendAsync(amendment, requestId), amendment.Type, requestId);
                case DeleteForMe delete: return AwaitOk(DeleteForMeAsync(delete, requestId), delete.Type, requestId);
                case ListHidden hidden: OnListHidden(hidden, requestId); break;
                case AdminCreateUser or AdminIssueToken or AdminListUsers or AdminSetDisabled or AdminStats
                    or AdminInspectLog or AdminListTokens or AdminRevokeToken or AdminListUserConversations or AdminSetRole or AdminCheckpoint
                    or AdminAuditQuery or AdminTlsReload or AdminRotateKey or AdminKeyStatus:
                    return AwaitOk(AdminAsync(message, requestId), message.Type, requestId);
                case Logout or RefreshSession or ChangePassword or TotpEnroll or TotpConfirm or TotpDisable or AdminSetPassword:
                    return AwaitOk(AccountAsync(message, requestId), message.Type, requestId);
                case EmptyMessage { Type: MessageType.Ping }: Reply(Frames.Empty(MessageType.Pong, requestId)); break;
                case EmptyMessage { Type: MessageType.Pong }: break;
                case Hello or Auth: return ValueTask.FromResult(Fail(ErrorCode.ProtocolError, "already authenticated", requestId));
                default:
                    if (requestId != 0)
                    {
                        ReplyError(requestId, ErrorCode.UnsupportedOperation, $"{message.Type} is not a client request");
                    }

                    break;
            }
        }
        catch (Exception ex)
        {
            CoreLog.RequestFailed(_core.Logger, ex, message.Type, SessionId);
            ReplyError(requestId, ErrorCode.InternalError, "internal error");
        }

        return ValueTask.FromResult(true);
    }

    private async ValueTask<bool> AwaitOk(Task task, MessageType type, uint requestId)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            CoreLog.RequestFailed(_core.Logger, ex, type, SessionId);
            ReplyError(requestId, ErrorCode.InternalError, "internal error");
        }

        return true;
    }

    private bool RequireRequestId(uint requestId, MessageType type)
    {
        if (requestId == 0)
        {
            ReplyError(0, ErrorCode.InvalidArgument, $"{type} needs a non-zero request id");
            return false;
        }

        return true;
    }

    private async ValueTask<bool> SendAsync(Send send, uint requestId)
    {
        if (!RequireRequestId(requestId, MessageType.Send))
        {
            return true;
        }

        if (!Authorize(Operation.Send, send.ConversationId, requestId))
        {
            return true;
        }

        uint wait = TakeSendToken();
        if (wait != 0)
        {
            ReplyError(requestId, ErrorCode.RateLimited, "too many sends", wait);
            return true;
        }

        // Bounded pipelining: the read loop waits only when this connection already has many sends in flight.
        await _sendSlots.WaitAsync().ConfigureAwait(false);
        // The answer is queued from the store's writer loop as the batch completes (one thread hop less per send):
        // CompleteSendAsync's continuation only releases a slot, encodes the SendAck and queues it, never blocking.
        var append = _core.Log.AppendAsync(
            new AppendRequest(send.ConversationId, UserId, DeviceId, send.ClientMsgId, (ushort)send.Kind, send.Body), AppendCompletion.OnWriter);
        if (append.IsCompletedSuccessfully)
        {
            CompleteSend(append.Result, requestId);
        }
        else
        {
            _ = CompleteSendAsync(append, requestId);
        }

        return true;
    }

    private async Task CompleteSendAsync(ValueTask<AppendResult> append, uint requestId)
    {
        AppendResult result;
        try
        {
            result = await append.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _sendSlots.Release();
            CoreLog.RequestFailed(_core.Logger, ex, MessageType.Send, SessionId);
            ReplyError(requestId, ErrorCode.InternalError, "internal error");
            return;
        }

        CompleteSend(result, requestId);
    }

    private void CompleteSend(AppendResult result, uint requestId)
    {
        _sendSlots.Release();
        ReplyAppendResult(result, requestId);
    }

    /// <summary>Answers an append: SendAck when it is durable (or a duplicate), else the error its status means.</summary>
    private void ReplyAppendResult(AppendResult result, uint requestId)
    {
        switch (result.Status)
        {
            case AppendStatus.Appended or AppendStatus.Duplicate:
                var entry = result.Entry!;
                Reply(Frames.Encode(requestId, new SendAck
                {
                    ConversationId = entry.ConversationId,
                    Seq = entry.Seq,
                    Epoch = entry.Epoch,
                    ServerTimeMs = entry.ServerTimeMs,
                    Duplicate = result.Status == AppendStatus.Duplicate,
                }));
                break;
            case AppendStatus.Conflict:
                ReplyError(requestId, ErrorCode.Conflict, "client_msg_id was used with a different body");
                break;
            case AppendStatus.NotFound:
                ReplyError(requestId, ErrorCode.NotFound, "conversation not found");
                break;
            default:
                _core.ReportStorageUnavailable();
                ReplyError(requestId, ErrorCode.StorageUnavailable, "storage unavailable, retry later", 1000);
                break;
        }
    }

    private void OnAck(Ack ack, uint requestId)
    {
        foreach (var item in ack.Items)
        {
            if (_core.Conversations.GetMember(item.ConversationId, UserId) is not null)
            {
                var head = _core.Log.GetHead(item.ConversationId);
                ulong seq = Math.Min(item.Seq, head?.Head ?? 0);
                _core.Cursors.AdvanceDelivered(UserId, DeviceId, item.ConversationId, seq);
            }
        }

        if (requestId != 0)
        {
            Reply(Frames.Empty(MessageType.Ok, requestId));
        }
    }

    private async Task SyncAllAsync(SyncAll sync, uint requestId)
    {
        if (!RequireRequestId(requestId, MessageType.SyncAll))
        {
            return;
        }

        int budget = sync.Limit == 0 ? _core.Limits.MaxSyncBatch : (int)Math.Min(sync.Limit, (uint)_core.Limits.MaxSyncBatch);
        var given = new Dictionary<ulong, SyncCursor>();
        foreach (var cursor in sync.Cursors)
        {
            given[cursor.ConversationId] = cursor;
        }

        var states = new List<SyncState>();
        bool more = false;
        foreach (ulong conversationId in _core.Conversations.GetUserConversations(UserId))
        {
            var head = _core.Log.GetHead(conversationId);
            if (head is null)
            {
                continue;
            }

            ulong from = given.TryGetValue(conversationId, out var c)
                ? (c.Epoch == head.Value.Epoch ? c.Seq : 0)
                : _core.Cursors.GetDelivered(UserId, DeviceId, conversationId);
            GoLiveResult result;
            if (budget <= 0 && from < head.Value.Head && !TryGetLive(conversationId, out _))
            {
                // The batch is full and this conversation has entries to send: it waits for the next request, without
                // the trip to its partition that would answer the same (a device already at the head still goes live).
                result = new GoLiveResult(0, from, head.Value.Head, head.Value.Epoch, CaughtUp: false);
            }
            else
            {
                result = await CatchUpAsync(conversationId, from, budget, requestId).ConfigureAwait(false);
            }
            budget -= result.Sent;
            more |= !result.CaughtUp;
            states.Add(new SyncState
            {
                ConversationId = conversationId,
                Epoch = result.Epoch,
                Head = result.Head,
                SentUpTo = result.SentUpTo,
                ReadSeq = _core.Cursors.GetRead(UserId, conversationId),
            });
        }

        Reply(Frames.Encode(requestId, new SyncDone { Conversations = [.. states], More = more }));
    }

    /// <summary>
    /// Brings one conversation live on this session. What is missing up to the head streams from here, pausing whenever
    /// the outbound queue is half full; the conversation's partition then sends the short tail committed meanwhile and
    /// switches the session to live in the same step, so nothing is skipped or repeated at the handover. When the tail
    /// is itself large (a busy conversation), the partition hands back and this loop streams again.
    /// </summary>
    private async Task<GoLiveResult> CatchUpAsync(ulong conversationId, ulong from, int budget, uint requestId)
    {
        long soft = _core.Limits.MaxPendingOutboundBytes / 2;
        ulong position = from;
        int sent = 0;
        while (true)
        {
            if (TryGetLive(conversationId, out ulong live))
            {
                var current = _core.Log.GetHead(conversationId) ?? default;
                return new GoLiveResult(sent, live, current.Head, current.Epoch, CaughtUp: true);
            }

            var head = _core.Log.GetHead(conversationId) ?? default;
            while (position < head.Head && sent < budget && !IsClosed)
            {
                var entries = _core.Log.ReadRange(conversationId, position + 1, Math.Min(256, budget - sent));
                if (entries.Count == 0)
                {
                    break;
                }

                // Consecutive Deliver frames go out as one buffer per batch, byte for byte what one frame per entry gives.
                int index = 0;
                var visible = VisibleFilter(conversationId);
                while (index < entries.Count)
                {
                    if (Sink.PendingBytes > soft)
                    {
                        await Sink.WaitUntilPendingAtMostAsync(soft).ConfigureAwait(false);
                    }

                    int first = index;
                    Sink.TrySend(DeliverBatch.Encode(requestId, entries, ref index, transform: visible));
                    position = entries[index - 1].Seq;
                    sent += index - first;
                }
            }

            var result = await _core.Router.GoLiveAsync(this, conversationId, position, budget - sent, requestId).ConfigureAwait(false);
            sent += result.Sent;
            position = result.SentUpTo;
            if (result.CaughtUp || sent >= budget || IsClosed)
            {
                return result with { Sent = sent };
            }

            await Sink.WaitUntilPendingAtMostAsync(soft).ConfigureAwait(false);
        }
    }

    private void OnSyncConversation(SyncConversation sync, uint requestId)
    {
        if (!RequireRequestId(requestId, MessageType.SyncConversation) || !Authorize(Operation.Read, sync.ConversationId, requestId))
        {
            return;
        }

        var head = _core.Log.GetHead(sync.ConversationId)!.Value;
        int limit = sync.Limit == 0 ? _core.Limits.MaxSyncBatch : (int)Math.Min(sync.Limit, (uint)_core.Limits.MaxSyncBatch);
        ulong position = sync.Epoch == 0 || sync.Epoch == head.Epoch ? Math.Min(sync.AfterSeq, head.Head) : 0;
        ulong start = position;
        int sent = 0;
        while (position < head.Head && sent < limit)
        {
            var entries = _core.Log.ReadRange(sync.ConversationId, position + 1, Math.Min(256, limit - sent));
            if (entries.Count == 0)
            {
                break;
            }

            foreach (var entry in entries)
            {
                Reply(Frames.Deliver(requestId, Visible(entry)));
                position = entry.Seq;
                sent++;
            }
        }

        Reply(Frames.Encode(requestId, new SyncDone
        {
            Conversations =
            [
                new SyncState
                {
                    ConversationId = sync.ConversationId,
                    Epoch = head.Epoch,
                    Head = head.Head,
                    SentUpTo = sent == 0 ? start : position,
                    ReadSeq = _core.Cursors.GetRead(UserId, sync.ConversationId),
                },
            ],
            More = position < head.Head,
        }));
    }

    private void OnHistory(History history, uint requestId)
    {
        if (!RequireRequestId(requestId, MessageType.History) || !Authorize(Operation.Read, history.ConversationId, requestId))
        {
            return;
        }

        var head = _core.Log.GetHead(history.ConversationId)!.Value;
        int limit = history.Limit == 0 ? _core.Limits.MaxHistoryPage : (int)Math.Min(history.Limit, (uint)_core.Limits.MaxHistoryPage);
        var entries = _core.Log.ReadBefore(history.ConversationId, history.BeforeSeq, limit);

        // A page also fits one frame: keep the newest entries whose encoded size stays under the frame limit.
        int budget = _core.ProtocolLimits.MaxFrameLength - 1024;
        int first = entries.Count;
        while (first > 0)
        {
            var entry = entries[first - 1];
            budget -= 64 + entry.Body.Length + (entry.ClientMsgId.Length * 3);
            if (budget < 0)
            {
                break;
            }

            first--;
        }

        var page = entries.Skip(first).ToList();
        Reply(Frames.Encode(requestId, new HistoryPage
        {
            ConversationId = history.ConversationId,
            Epoch = head.Epoch,
            Messages = [.. page.Select(entry => Frames.ToDeliver(Visible(entry)))],
            More = page.Count > 0 ? page[0].Seq > 1 : entries.Count > 0,
        }));
    }
}
