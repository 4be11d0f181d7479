using Wren.Protocol;
using Wren.Protocol.Messages;
using Wren.Storage;
using StoreKind = Wren.Storage.ConversationKind;
using StoreRole = Wren.Storage.MemberRole;

namespace Wren.Broker.Core;

/// <summary>
/// Administrator operations: users, tokens, statistics, log inspection, roles, checkpoints, the audit log, TLS reload and
/// key rotation. Only for server-wide administrators, from loopback by default. Every change is recorded in the audit log.
/// </summary>
public sealed partial class Session
{
    private async Task AdminAsync(IMessage message, uint requestId)
    {
        if (!RequireRequestId(requestId, message.Type))
        {
            return;
        }

        if (!_isAdmin || !(Sink.IsLoopback || _core.Limits.AllowRemoteAdmin))
        {
            ReplyError(requestId, ErrorCode.Forbidden, "administrator operations need an administrator on the broker's host");
            return;
        }

        switch (message)
        {
            case AdminCreateUser create:
                var user = await _core.Users.CreateUserAsync(create.UserName, string.IsNullOrEmpty(create.DisplayName) ? create.UserName : create.DisplayName, create.IsAdmin).ConfigureAwait(false);
                if (user is null)
                {
                    ReplyError(requestId, ErrorCode.Conflict, "user name taken");
                    return;
                }

                AuditAdmin(AuditAction.UserCreated, user.UserId, detail: user.IsAdmin ? $"user {user.UserName} (administrator)" : $"user {user.UserName}");
                Reply(Frames.Encode(requestId, DescribeUser(user)));
                break;

            case AdminIssueToken issue:
                if (_core.Users.FindUser(issue.UserName) is not { } owner)
                {
                    ReplyError(requestId, ErrorCode.NotFound, "user not found");
                    return;
                }

                var issued = await _core.Authenticator.IssueAsync(owner, issue.DeviceName, issue.TtlSeconds == 0 ? null : TimeSpan.FromSeconds(issue.TtlSeconds)).ConfigureAwait(false);
                AuditAdmin(AuditAction.TokenIssued, owner.UserId, detail: $"device {issued.Device.DeviceId} \"{issue.DeviceName}\" by administrator");
                Reply(Frames.Encode(requestId, new AdminToken { Token = issued.Token, UserId = owner.UserId, DeviceId = issued.Device.DeviceId, ExpiresMs = issued.ExpiresMs }));
                break;

            case AdminListUsers list:
                int limit = list.Limit == 0 ? _core.ProtocolLimits.MaxListItems : (int)Math.Min(list.Limit, (uint)_core.ProtocolLimits.MaxListItems);
                var users = _core.Users.ListUsers(list.AfterUserId, limit + 1);
                Reply(Frames.Encode(requestId, new AdminUserList { Items = [.. users.Take(limit).Select(DescribeUser)], More = users.Count > limit }));
                break;

            case AdminSetDisabled set:
                if (!await _core.Users.SetDisabledAsync(set.UserId, set.Disabled).ConfigureAwait(false))
                {
                    ReplyError(requestId, ErrorCode.NotFound, "user not found");
                    return;
                }

                AuditAdmin(set.Disabled ? AuditAction.UserDisabled : AuditAction.UserEnabled, set.UserId, detail: "by administrator");
                if (set.Disabled)
                {
                    foreach (var session in _core.Registry.GetSessions(set.UserId))
                    {
                        session.Fail(ErrorCode.SessionRevoked, "user disabled");
                    }
                }

                Reply(Frames.Empty(MessageType.Ok, requestId));
                break;

            case AdminStats:
                var stats = _core.Statistics?.GetStatistics() ?? default;
                Reply(Frames.Encode(requestId, new AdminStatsResult
                {
                    Connections = (ulong)Math.Max(0, _core.OpenSessions),
                    OnlineUsers = (ulong)_core.Registry.OnlineUsers,
                    Users = (ulong)stats.Users,
                    Conversations = (ulong)stats.Conversations,
                    Messages = (ulong)stats.Messages,
                    DiskBytes = (ulong)stats.DiskBytes,
                    UptimeMs = (ulong)Math.Max(0, _core.NowMs - _core.StartedMs),
                    Delivered = (ulong)_core.Router.Delivered,
                }));
                break;

            case AdminInspectLog inspect:
                OnAdminInspectLog(inspect, requestId);
                break;

            case AdminListTokens tokens:
                OnAdminListTokens(tokens, requestId);
                break;

            case AdminRevokeToken revoke:
                await AdminRevokeTokenAsync(revoke, requestId).ConfigureAwait(false);
                break;

            case AdminListUserConversations conversations:
                OnAdminListUserConversations(conversations, requestId);
                break;

            case AdminSetRole role:
                await AdminSetRoleAsync(role, requestId).ConfigureAwait(false);
                break;

            case AdminCheckpoint checkpoint:
                await AdminCheckpointAsync(checkpoint, requestId).ConfigureAwait(false);
                break;

            case AdminAuditQuery query:
                OnAdminAuditQuery(query, requestId);
                break;

            case AdminTlsReload:
                await AdminTlsReloadAsync(requestId).ConfigureAwait(false);
                break;

            case AdminRotateKey:
                await AdminRotateKeyAsync(requestId).ConfigureAwait(false);
                break;

            case AdminKeyStatus:
                if (_core.HostOperations is not { } host)
                {
                    ReplyError(requestId, ErrorCode.UnsupportedOperation, "this broker has no at-rest key ring");
                    return;
                }

                Reply(Frames.Encode(requestId, DescribeKeyRing(host.GetKeyRingStatus())));
                break;
        }
    }

    /// <summary>Records an administrator's action in the audit log, with this session as the actor.</summary>
    private void AuditAdmin(AuditAction action, ulong subjectUserId = 0, ulong conversationId = 0, string? detail = null) =>
        _core.Audit.Record(new AuditEvent(action, UserId, DeviceId, subjectUserId, conversationId, detail, Sink.RemoteAddress));

    /// <summary>A page of the audit log, ascending, filtered by user (actor or subject), action and time.</summary>
    private void OnAdminAuditQuery(AdminAuditQuery query, uint requestId)
    {
        if (_core.Audit.Store is not { } store)
        {
            ReplyError(requestId, ErrorCode.UnsupportedOperation, "this broker keeps no audit log");
            return;
        }

        ulong userId = 0;
        if (query.UserName.Length > 0)
        {
            if (_core.Users.FindUser(query.UserName) is not { } user)
            {
                ReplyError(requestId, ErrorCode.NotFound, "user not found");
                return;
            }

            userId = user.UserId;
        }

        ushort action = 0;
        if (query.Action.Length > 0)
        {
            if (!Enum.TryParse<AuditAction>(query.Action, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed))
            {
                ReplyError(requestId, ErrorCode.InvalidArgument, "unknown action; docs/security.md (Audit log) lists the names");
                return;
            }

            action = (ushort)parsed;
        }

        int limit = query.Limit == 0 ? 100 : (int)Math.Min(query.Limit, (uint)AdminAuditQuery.MaxPage);
        var page = store.ReadAudit(query.AfterId, limit, new AuditFilter(userId, action, query.SinceMs));
        Reply(Frames.Encode(requestId, new AdminAuditPage
        {
            Items =
            [
                .. page.Items.Select(r => new AdminAuditEvent
                {
                    Id = r.Id,
                    TimeMs = r.TimeMs,
                    Action = r.Action,
                    ActionName = Enum.IsDefined((AuditAction)r.Action) ? ((AuditAction)r.Action).ToString() : "",
                    ActorUserId = r.ActorUserId,
                    ActorDeviceId = r.ActorDeviceId,
                    SubjectUserId = r.SubjectUserId,
                    ConversationId = r.ConversationId,
                    Detail = r.Detail,
                    RemoteAddress = r.RemoteAddress,
                }),
            ],
            LastId = page.LastScannedId,
            More = page.More,
        }));
    }

    /// <summary>Reloads the TLS certificate file; an unusable file keeps the current certificate and answers Conflict.</summary>
    private async Task AdminTlsReloadAsync(uint requestId)
    {
        if (_core.HostOperations is not { } host)
        {
            ReplyError(requestId, ErrorCode.UnsupportedOperation, "this broker cannot reload its certificate");
            return;
        }

        CertificateInfo info;
        try
        {
            info = await host.ReloadCertificateAsync().ConfigureAwait(false);
        }
        catch (HostOperationException ex)
        {
            AuditAdmin(AuditAction.TlsReloadFailed, detail: "by administrator: " + ex.Message);
            ReplyError(requestId, ErrorCode.Conflict, FitErrorMessage(ex.Message));
            return;
        }

        AuditAdmin(AuditAction.TlsReloaded, detail: $"by administrator: {info.Subject} {info.Fingerprint}");
        Reply(Frames.Encode(requestId, new AdminCertificate { Subject = info.Subject, Fingerprint = info.Fingerprint, NotAfterMs = info.NotAfterMs }));
    }

    /// <summary>Generates and activates a new at-rest data key (the host persists the key ring first).</summary>
    private async Task AdminRotateKeyAsync(uint requestId)
    {
        if (_core.HostOperations is not { } host)
        {
            ReplyError(requestId, ErrorCode.UnsupportedOperation, "this broker has no at-rest key ring");
            return;
        }

        KeyRingStatus status;
        try
        {
            status = await host.RotateEncryptionKeyAsync().ConfigureAwait(false);
        }
        catch (HostOperationException ex)
        {
            ReplyError(requestId, ErrorCode.StorageUnavailable, FitErrorMessage(ex.Message));
            return;
        }

        AuditAdmin(AuditAction.KeyRotated, detail: $"active key {status.ActiveKeyId}");
        Reply(Frames.Encode(requestId, DescribeKeyRing(status)));
    }

    /// <summary>An error text cut to fit the Error frame's message field (at most 256 UTF-8 bytes).</summary>
    private static string FitErrorMessage(string message) => message.Length <= 85 ? message : message[..82] + "...";

    private static AdminKeyRing DescribeKeyRing(KeyRingStatus status) =>
        new() { ActiveKeyId = status.ActiveKeyId, KeyIds = [.. status.KeyIds.Select(id => (uint)id)] };

    /// <summary>A page of any conversation's log, ascending, bounded by count and by the frame limit. Membership is not checked.</summary>
    private void OnAdminInspectLog(AdminInspectLog inspect, uint requestId)
    {
        if (_core.Conversations.GetConversation(inspect.ConversationId) is not { } record || _core.Log.GetHead(inspect.ConversationId) is not { } head)
        {
            ReplyError(requestId, ErrorCode.NotFound, "conversation not found");
            return;
        }

        int limit = inspect.Limit == 0 ? _core.Limits.MaxHistoryPage : (int)Math.Min(inspect.Limit, (uint)_core.Limits.MaxHistoryPage);
        ulong from = Math.Max(1, inspect.FromSeq);
        var entries = from > head.Head ? [] : _core.Log.ReadRange(inspect.ConversationId, from, limit);

        // A page also fits one frame: keep the oldest entries whose encoded size stays under the frame limit.
        int budget = _core.ProtocolLimits.MaxFrameLength - 1024 - (record.Title.Length * 3);
        var page = new List<Deliver>(entries.Count);
        foreach (var entry in entries)
        {
            budget -= 64 + entry.Body.Length + (entry.ClientMsgId.Length * 3);
            if (budget < 0)
            {
                break;
            }

            page.Add(Frames.ToDeliver(entry));
        }

        ulong last = page.Count > 0 ? page[^1].Seq : from - 1;
        AuditAdmin(AuditAction.AdminAction, conversationId: record.ConversationId, detail: $"inspect log from seq {from}");
        Reply(Frames.Encode(requestId, new AdminLogPage
        {
            ConversationId = record.ConversationId,
            Kind = (Protocol.Messages.ConversationKind)record.Kind,
            Title = record.Title,
            Epoch = head.Epoch,
            Head = head.Head,
            MemberCount = (uint)record.MemberCount,
            Entries = [.. page],
            More = last < head.Head,
        }));
    }

    /// <summary>The newest <see cref="ProtocolLimits.MaxListItems"/> tokens of a user, oldest first, identified by hash prefix.</summary>
    private void OnAdminListTokens(AdminListTokens list, uint requestId)
    {
        if (_core.Users.FindUser(list.UserName) is not { } user)
        {
            ReplyError(requestId, ErrorCode.NotFound, "user not found");
            return;
        }

        var devices = new Dictionary<uint, string>();
        foreach (var device in _core.Users.ListDevices(user.UserId))
        {
            devices[device.DeviceId] = device.Name;
        }

        var tokens = _core.Users.ListTokens(user.UserId)
            .OrderByDescending(t => t.CreatedMs)
            .Take(_core.ProtocolLimits.MaxListItems)
            .OrderBy(t => t.CreatedMs)
            .ThenBy(t => t.DeviceId);
        Reply(Frames.Encode(requestId, new AdminTokenList
        {
            Items =
            [
                .. tokens.Select(t => new AdminTokenInfo
                {
                    TokenId = TokenId(t.TokenHash),
                    DeviceId = t.DeviceId,
                    DeviceName = devices.GetValueOrDefault(t.DeviceId, ""),
                    CreatedMs = t.CreatedMs,
                    ExpiresMs = t.ExpiresMs,
                    Revoked = t.Revoked,
                }),
            ],
        }));
    }

    /// <summary>Revokes one token of a user and closes the sessions of the device it authenticates.</summary>
    private async Task AdminRevokeTokenAsync(AdminRevokeToken revoke, uint requestId)
    {
        if (_core.Users.FindUser(revoke.UserName) is not { } user)
        {
            ReplyError(requestId, ErrorCode.NotFound, "user not found");
            return;
        }

        var token = _core.Users.ListTokens(user.UserId).FirstOrDefault(t => TokenId(t.TokenHash) == revoke.TokenId);
        if (token is null || !await _core.Users.RevokeTokenAsync(token.TokenHash).ConfigureAwait(false))
        {
            ReplyError(requestId, ErrorCode.NotFound, "token not found");
            return;
        }

        AuditAdmin(AuditAction.TokenRevoked, user.UserId, detail: $"token {revoke.TokenId} of device {token.DeviceId} by administrator");
        foreach (var session in _core.Registry.GetSessions(user.UserId))
        {
            if (session.DeviceId == token.DeviceId)
            {
                session.Fail(ErrorCode.SessionRevoked, "token revoked");
            }
        }

        Reply(Frames.Empty(MessageType.Ok, requestId));
    }

    /// <summary>A page of a user's conversations as that user sees them (role, read cursor, peer).</summary>
    private void OnAdminListUserConversations(AdminListUserConversations list, uint requestId)
    {
        if (_core.Users.FindUser(list.UserName) is not { } user)
        {
            ReplyError(requestId, ErrorCode.NotFound, "user not found");
            return;
        }

        int limit = list.Limit == 0 ? _core.Limits.MaxHistoryPage : (int)Math.Min(list.Limit, (uint)_core.ProtocolLimits.MaxListItems);
        var ids = _core.Conversations.GetUserConversations(user.UserId).Where(id => id > list.AfterConversationId).Take(limit + 1).ToList();
        var items = new List<ConversationInfo>(Math.Min(ids.Count, limit));
        foreach (var id in ids.Take(limit))
        {
            if (_core.Conversations.GetConversation(id) is { } record)
            {
                items.Add(Describe(record, user.UserId));
            }
        }

        Reply(Frames.Encode(requestId, new ConversationList { Items = [.. items], More = ids.Count > limit }));
    }

    /// <summary>Sets any member's role in a group; refuses direct conversations and demoting the last owner.</summary>
    private async Task AdminSetRoleAsync(AdminSetRole set, uint requestId)
    {
        if (_core.Conversations.GetConversation(set.ConversationId) is not { } record)
        {
            ReplyError(requestId, ErrorCode.NotFound, "conversation not found");
            return;
        }

        if (record.Kind != StoreKind.Group)
        {
            ReplyError(requestId, ErrorCode.Forbidden, "direct conversations have no roles");
            return;
        }

        var role = (StoreRole)set.Role;
        await _core.RoleChanges.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_core.Conversations.GetMember(set.ConversationId, set.UserId) is not { } member)
            {
                ReplyError(requestId, ErrorCode.NotFound, "not a member of the conversation");
                return;
            }

            if (!Answer(Permissions.CheckAdminSetRole(member.Role, role, CountOwners(set.ConversationId)), requestId))
            {
                return;
            }

            if (!await _core.Conversations.SetRoleAsync(set.ConversationId, set.UserId, role).ConfigureAwait(false))
            {
                ReplyError(requestId, ErrorCode.NotFound, "not a member of the conversation");
                return;
            }
        }
        finally
        {
            _core.RoleChanges.Release();
        }

        AuditAdmin(AuditAction.RoleChanged, set.UserId, set.ConversationId, $"role {role} by administrator");
        Reply(Frames.Empty(MessageType.Ok, requestId));
    }

    private int CountOwners(ulong conversationId)
    {
        int owners = 0;
        ulong after = 0;
        while (true)
        {
            var members = _core.Conversations.ListMembers(conversationId, after, 1000);
            foreach (var member in members)
            {
                if (member.Role == StoreRole.Owner)
                {
                    owners++;
                }
            }

            if (members.Count < 1000)
            {
                return owners;
            }

            after = members[^1].UserId;
        }
    }

    /// <summary>Writes a checkpoint of the store into a new directory on the broker's host.</summary>
    private async Task AdminCheckpointAsync(AdminCheckpoint request, uint requestId)
    {
        if (_core.Checkpoint is not { } store)
        {
            ReplyError(requestId, ErrorCode.UnsupportedOperation, "this broker's store cannot write checkpoints");
            return;
        }

        string target = request.TargetDirectory;
        if (!Path.IsPathFullyQualified(target))
        {
            ReplyError(requestId, ErrorCode.InvalidArgument, "target_directory must be an absolute path on the broker's host");
            return;
        }

        target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(target));
        if (Path.Exists(target))
        {
            ReplyError(requestId, ErrorCode.InvalidArgument, "target_directory already exists; choose a new directory");
            return;
        }

        if (Path.GetDirectoryName(target) is not { } parent || !Directory.Exists(parent))
        {
            ReplyError(requestId, ErrorCode.InvalidArgument, "the parent of target_directory does not exist");
            return;
        }

        try
        {
            await store.CheckpointAsync(target).ConfigureAwait(false);
        }
        catch (StorageException ex)
        {
            CoreLog.CheckpointFailed(_core.Logger, ex, SessionId);
            ReplyError(requestId, ErrorCode.StorageUnavailable, "the checkpoint could not be written; the broker log has the details");
            return;
        }

        CoreLog.CheckpointWritten(_core.Logger, target, SessionId);
        AuditAdmin(AuditAction.AdminAction, detail: "checkpoint to " + target);
        Reply(Frames.Empty(MessageType.Ok, requestId));
    }

    /// <summary>A token's public id: the first 8 bytes of its SHA-256 hash, as lowercase hex. Never the secret.</summary>
    private static string TokenId(byte[] tokenHash) => Convert.ToHexStringLower(tokenHash, 0, Math.Min(8, tokenHash.Length));

    private static AdminUser DescribeUser(UserRecord user) => new()
    {
        UserId = user.UserId,
        UserName = user.UserName,
        DisplayName = user.DisplayName,
        IsAdmin = user.IsAdmin,
        Disabled = user.Disabled,
        CreatedMs = user.CreatedMs,
    };
}
