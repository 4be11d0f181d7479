using System.Text;
using CsCheck;
using Wren.Protocol.Messages;

namespace Wren.Protocol.Tests;

/// <summary>
/// CsCheck generators of valid messages of every type: full numeric ranges, text with 1- to 4-byte UTF-8 characters up to
/// each field's byte limit, lists up to the list limit, bodies up to the body limit.
/// </summary>
internal static class MessageGenerators
{
    private static readonly ProtocolLimits s_limits = ProtocolLimits.Default;

    // Code points of every UTF-8 length; surrogates excluded (they are not characters and do not round-trip).
    private static readonly Gen<int> s_codePoint = Gen.Frequency(
        (6, Gen.Int[0x00, 0x7F]),
        (2, Gen.Int[0x80, 0x7FF]),
        (2, Gen.Int[0x800, 0xD7FF]),
        (1, Gen.Int[0xE000, 0xFFFF]),
        (1, Gen.Int[0x10000, 0x10FFFF]));

    private static readonly Gen<ulong> s_nonZeroULong = Gen.ULong.Select(v => v == 0 ? 1 : v);

    private static readonly Gen<int> s_listLength = Gen.Frequency(
        (30, Gen.Int[0, 4]),
        (5, Gen.Int[0, 40]),
        (1, Gen.Int[0, s_limits.MaxListItems]));

    private static readonly Gen<byte[]> s_body = Gen.Frequency(
        (30, Gen.Int[0, 300]),
        (1, Gen.Int[0, s_limits.MaxMessageBodyBytes]),
        (1, Gen.Const(s_limits.MaxMessageBodyBytes))).SelectMany(n => Gen.Byte.Array[n]);

    private static readonly Gen<string> s_name = Text(s_limits.MaxNameBytes);

    private static readonly Gen<string[]> s_names = List(s_name);

    private static readonly Gen<ulong[]> s_ids = List(Gen.ULong);

    private static readonly Gen<Deliver> s_deliver = Gen.Select(
        Gen.ULong, Gen.ULong, Gen.UInt, Gen.ULong, Gen.UInt, Gen.Long, Text(s_limits.MaxClientMessageIdBytes), Gen.UShort, s_body,
        (conversation, seq, epoch, sender, device, time, clientMsgId, kind, body) => new Deliver
        {
            ConversationId = conversation,
            Seq = seq,
            Epoch = epoch,
            SenderUserId = sender,
            SenderDeviceId = device,
            ServerTimeMs = time,
            ClientMsgId = clientMsgId,
            Kind = (EntryKind)kind,
            Body = body,
        });

    private static readonly Gen<ConversationInfo> s_conversation = Gen.Select(
        Gen.ULong, Gen.Byte, s_name, Gen.UInt, Gen.ULong, Gen.UInt, Gen.Long, Gen.Byte, Gen.ULong, Gen.ULong,
        (id, kind, title, epoch, head, members, created, role, read, peer) => new ConversationInfo
        {
            ConversationId = id,
            Kind = (ConversationKind)kind,
            Title = title,
            Epoch = epoch,
            Head = head,
            MemberCount = members,
            CreatedMs = created,
            MyRole = (MemberRole)role,
            ReadSeq = read,
            PeerUserId = peer,
        });

    private static readonly Gen<string> s_tokenId = Gen.Byte.Array[8].Select(bytes => Convert.ToHexStringLower(bytes));

    private static readonly Gen<Presence> s_presence = Gen.Select(Gen.ULong, Gen.Byte, Gen.Long,
        (user, status, lastSeen) => new Presence { UserId = user, Status = (PresenceStatus)status, LastSeenMs = lastSeen });

    /// <summary>A generator of valid messages for each type.</summary>
    private static readonly Gen<AdminUser> s_adminUser = Gen.Select(Gen.ULong, s_name, s_name, Gen.Bool, Gen.Bool, Gen.Long,
        (id, name, display, admin, disabled, created) => new AdminUser
        {
            UserId = id, UserName = name, DisplayName = display, IsAdmin = admin, Disabled = disabled, CreatedMs = created,
        });

    public static IReadOnlyDictionary<MessageType, Gen<IMessage>> ByType { get; } = new Dictionary<MessageType, Gen<IMessage>>
    {
        [MessageType.Hello] = Gen.Select(Gen.UShort, Gen.UShort, s_name, s_name, s_names, (a, b, name, version, capabilities) => (IMessage)new Hello
        {
            MinVersion = Math.Max((ushort)1, Math.Min(a, b)),
            MaxVersion = Math.Max((ushort)1, Math.Max(a, b)),
            ClientName = name,
            ClientVersion = version,
            Capabilities = capabilities,
        }),
        [MessageType.Welcome] = Gen.Select(Gen.UShort, s_name, s_name, Gen.Long, Gen.UInt.Array[8], s_names, (version, name, serverVersion, time, l, capabilities) => (IMessage)new Welcome
        {
            Version = version,
            ServerName = name,
            ServerVersion = serverVersion,
            ServerTimeMs = time,
            Limits = new ServerLimits
            {
                MaxFrameLength = l[0],
                MaxMessageBodyBytes = l[1],
                PingIntervalMs = l[2],
                IdleTimeoutMs = l[3],
                HandshakeTimeoutMs = l[4],
                MaxSyncBatch = l[5],
                MaxHistoryPage = l[6],
                MaxListItems = l[7],
            },
            Capabilities = capabilities,
        }),
        [MessageType.Auth] = Gen.Select(
            Gen.Enum<AuthMethod>(), Text(s_limits.MaxCredentialBytes, minCodePoints: 1), Text(s_limits.MaxNameBytes, minCodePoints: 1),
            Text(s_limits.MaxCredentialBytes, minCodePoints: 1), Optional(s_name), Optional(s_name), Gen.Bool,
            (method, token, user, password, totp, device, extra) => (IMessage)new Auth
            {
                Method = method,
                Token = method != AuthMethod.Password || extra ? token : null,
                UserName = method == AuthMethod.Password || extra ? user : null,
                Password = method == AuthMethod.Password || extra ? password : null,
                TotpCode = totp,
                DeviceName = device,
            }),
        [MessageType.AuthOk] = Gen.Select(Gen.ULong, s_name, Gen.UInt, Gen.ULong, Gen.Long, Optional(Text(s_limits.MaxCredentialBytes)), Optional(Text(s_limits.MaxCredentialBytes)), Gen.Long,
            (user, name, device, session, expires, token, refresh, refreshExpires) => (IMessage)new AuthOk
            {
                UserId = user,
                UserName = name,
                DeviceId = device,
                SessionId = session,
                ExpiresMs = expires,
                IssuedToken = token,
                RefreshToken = refresh,
                RefreshExpiresMs = refreshExpires,
            }),
        [MessageType.Ping] = Gen.Const<IMessage>(EmptyMessage.Ping),
        [MessageType.Pong] = Gen.Const<IMessage>(EmptyMessage.Pong),
        [MessageType.GoAway] = Gen.Select(Gen.UShort, s_name, Gen.UInt,
            (code, message, after) => (IMessage)new GoAway { Code = (ErrorCode)code, Message = message, ReconnectAfterMs = after }),
        [MessageType.Error] = Gen.Select(Gen.UShort, s_name, Gen.UInt,
            (code, message, retry) => (IMessage)new Error { Code = (ErrorCode)code, Message = message, RetryAfterMs = retry }),
        [MessageType.Ok] = Gen.Const<IMessage>(EmptyMessage.Ok),
        [MessageType.Send] = Gen.Select(s_nonZeroULong, Text(s_limits.MaxClientMessageIdBytes, minCodePoints: 1), s_body,
            (conversation, clientMsgId, body) => (IMessage)new Send { ConversationId = conversation, ClientMsgId = clientMsgId, Kind = EntryKind.Message, Body = body }),
        [MessageType.SendAck] = Gen.Select(Gen.ULong, Gen.ULong, Gen.UInt, Gen.Long, Gen.Bool,
            (conversation, seq, epoch, time, duplicate) => (IMessage)new SendAck { ConversationId = conversation, Seq = seq, Epoch = epoch, ServerTimeMs = time, Duplicate = duplicate }),
        [MessageType.Deliver] = s_deliver.Select(d => (IMessage)d),
        [MessageType.Ack] = List(Gen.Select(s_nonZeroULong, Gen.ULong, (c, s) => new AckItem { ConversationId = c, Seq = s }))
            .Select(items => (IMessage)new Ack { Items = items }),
        [MessageType.SyncConversation] = Gen.Select(s_nonZeroULong, Gen.ULong, Gen.UInt, Gen.UInt,
            (conversation, after, epoch, limit) => (IMessage)new SyncConversation { ConversationId = conversation, AfterSeq = after, Epoch = epoch, Limit = limit }),
        [MessageType.SyncAll] = Gen.Select(Gen.UInt, List(Gen.Select(s_nonZeroULong, Gen.UInt, Gen.ULong, (c, e, s) => new SyncCursor { ConversationId = c, Epoch = e, Seq = s })),
            (limit, cursors) => (IMessage)new SyncAll { Limit = limit, Cursors = cursors }),
        [MessageType.SyncDone] = Gen.Select(
            List(Gen.Select(Gen.ULong, Gen.UInt, Gen.ULong, Gen.ULong, Gen.ULong, (c, e, h, s, r) => new SyncState { ConversationId = c, Epoch = e, Head = h, SentUpTo = s, ReadSeq = r })),
            Gen.Bool,
            (conversations, more) => (IMessage)new SyncDone { Conversations = conversations, More = more }),
        [MessageType.History] = Gen.Select(s_nonZeroULong, Gen.ULong, Gen.UInt,
            (conversation, before, limit) => (IMessage)new History { ConversationId = conversation, BeforeSeq = before, Limit = limit }),
        [MessageType.HistoryPage] = Gen.Select(Gen.ULong, Gen.UInt, s_deliver.Array[0, 5], Gen.Bool,
            (conversation, epoch, messages, more) => (IMessage)new HistoryPage { ConversationId = conversation, Epoch = epoch, Messages = messages, More = more }),
        [MessageType.CreateGroup] = Gen.Select(s_name, s_ids, (title, members) => (IMessage)new CreateGroup { Title = title, Members = members }),
        [MessageType.ConversationInfo] = s_conversation.Select(c => (IMessage)c),
        [MessageType.OpenDirect] = s_nonZeroULong.Select(peer => (IMessage)new OpenDirect { PeerUserId = peer }),
        [MessageType.AddMembers] = Gen.Select(s_nonZeroULong, List(Gen.ULong, minItems: 1),
            (conversation, users) => (IMessage)new AddMembers { ConversationId = conversation, UserIds = users }),
        [MessageType.RemoveMembers] = Gen.Select(s_nonZeroULong, List(Gen.ULong, minItems: 1),
            (conversation, users) => (IMessage)new RemoveMembers { ConversationId = conversation, UserIds = users }),
        [MessageType.ListMembers] = Gen.Select(s_nonZeroULong, Gen.ULong, Gen.UInt,
            (conversation, after, limit) => (IMessage)new ListMembers { ConversationId = conversation, AfterUserId = after, Limit = limit }),
        [MessageType.MemberList] = Gen.Select(Gen.ULong, List(Gen.Select(Gen.ULong, Gen.Byte, Gen.Long, (u, r, j) => new MemberInfo { UserId = u, Role = (MemberRole)r, JoinedMs = j })), Gen.Bool,
            (conversation, members, more) => (IMessage)new MemberList { ConversationId = conversation, Members = members, More = more }),
        [MessageType.ListConversations] = Gen.Select(Gen.ULong, Gen.UInt,
            (after, limit) => (IMessage)new ListConversations { AfterConversationId = after, Limit = limit }),
        [MessageType.ConversationList] = Gen.Select(s_conversation.Array[0, 5], Gen.Bool,
            (items, more) => (IMessage)new ConversationList { Items = items, More = more }),
        [MessageType.SetRole] = Gen.Select(s_nonZeroULong, s_nonZeroULong, Gen.Byte[0, 3],
            (conversation, user, role) => (IMessage)new SetRole { ConversationId = conversation, UserId = user, Role = (MemberRole)role }),
        [MessageType.UpdateGroup] = Gen.Select(s_nonZeroULong, Gen.Frequency((1, Gen.Const((string?)null)), (3, s_name.Select(t => (string?)t))),
            Gen.Frequency((1, Gen.Const((bool?)null)), (2, Gen.Bool.Select(b => (bool?)b))),
            (conversation, title, readOnly) => (IMessage)new UpdateGroup { ConversationId = conversation, Title = title, ReadOnly = readOnly }),
        [MessageType.LeaveGroup] = s_nonZeroULong.Select(conversation => (IMessage)new LeaveGroup { ConversationId = conversation }),
        [MessageType.GroupSettings] = Gen.Select(Gen.ULong, s_name, Gen.Bool, Gen.UInt,
            (conversation, title, readOnly, window) => (IMessage)new GroupSettings { ConversationId = conversation, Title = title, ReadOnly = readOnly, RecallWindowMs = window }),
        [MessageType.GetGroupSettings] = s_nonZeroULong.Select(conversation => (IMessage)new GetGroupSettings { ConversationId = conversation }),
        [MessageType.Recall] = Gen.Select(s_nonZeroULong, Text(s_limits.MaxClientMessageIdBytes, minCodePoints: 1), s_nonZeroULong,
            (conversation, clientMsgId, target) => (IMessage)new Recall { ConversationId = conversation, ClientMsgId = clientMsgId, TargetSeq = target }),
        [MessageType.Edit] = Gen.Select(s_nonZeroULong, Text(s_limits.MaxClientMessageIdBytes, minCodePoints: 1), s_nonZeroULong,
            Gen.Int[0, s_limits.MaxMessageBodyBytes - 8].SelectMany(n => Gen.Byte.Array[n]),
            (conversation, clientMsgId, target, body) => (IMessage)new Edit { ConversationId = conversation, ClientMsgId = clientMsgId, TargetSeq = target, Body = body }),
        [MessageType.Delete] = Gen.Select(s_nonZeroULong, Text(s_limits.MaxClientMessageIdBytes, minCodePoints: 1), s_nonZeroULong,
            (conversation, clientMsgId, target) => (IMessage)new Delete { ConversationId = conversation, ClientMsgId = clientMsgId, TargetSeq = target }),
        [MessageType.DeleteForMe] = Gen.Select(s_nonZeroULong, List(s_nonZeroULong, minItems: 1),
            (conversation, seqs) => (IMessage)new DeleteForMe { ConversationId = conversation, Seqs = seqs }),
        [MessageType.ListHidden] = Gen.Select(s_nonZeroULong, Gen.ULong, Gen.UInt,
            (conversation, after, limit) => (IMessage)new ListHidden { ConversationId = conversation, AfterSeq = after, Limit = limit }),
        [MessageType.HiddenList] = Gen.Select(Gen.ULong, List(Gen.ULong), Gen.Bool,
            (conversation, seqs, more) => (IMessage)new HiddenList { ConversationId = conversation, Seqs = seqs, More = more }),
        [MessageType.MarkRead] = Gen.Select(s_nonZeroULong, Gen.ULong, (conversation, seq) => (IMessage)new MarkRead { ConversationId = conversation, Seq = seq }),
        [MessageType.ReadReceipt] = Gen.Select(Gen.ULong, Gen.ULong, Gen.ULong,
            (conversation, user, seq) => (IMessage)new ReadReceipt { ConversationId = conversation, UserId = user, Seq = seq }),
        [MessageType.Typing] = Gen.Select(s_nonZeroULong, Gen.Bool, Gen.ULong,
            (conversation, active, user) => (IMessage)new Typing { ConversationId = conversation, Active = active, UserId = user }),
        [MessageType.Presence] = s_presence.Select(p => (IMessage)p),
        [MessageType.QueryPresence] = s_ids.Select(users => (IMessage)new QueryPresence { UserIds = users }),
        [MessageType.PresenceList] = List(s_presence).Select(items => (IMessage)new PresenceList { Items = items }),
        [MessageType.ResolveUsers] = Gen.Select(s_ids, s_names, (ids, names) => (IMessage)new ResolveUsers { UserIds = ids, UserNames = names }),
        [MessageType.UserList] = List(Gen.Select(Gen.ULong, s_name, s_name, (id, name, display) => new UserInfo { UserId = id, UserName = name, DisplayName = display }))
            .Select(items => (IMessage)new UserList { Items = items }),
        [MessageType.AdminCreateUser] = Gen.Select(Text(s_limits.MaxNameBytes, minCodePoints: 1), s_name, Gen.Bool,
            (name, display, admin) => (IMessage)new AdminCreateUser { UserName = name, DisplayName = display, IsAdmin = admin }),
        [MessageType.AdminIssueToken] = Gen.Select(Text(s_limits.MaxNameBytes, minCodePoints: 1), Text(s_limits.MaxNameBytes, minCodePoints: 1), Gen.UInt,
            (name, device, ttl) => (IMessage)new AdminIssueToken { UserName = name, DeviceName = device, TtlSeconds = ttl }),
        [MessageType.AdminListUsers] = Gen.Select(Gen.ULong, Gen.UInt, (after, limit) => (IMessage)new AdminListUsers { AfterUserId = after, Limit = limit }),
        [MessageType.AdminSetDisabled] = Gen.Select(s_nonZeroULong, Gen.Bool, (user, disabled) => (IMessage)new AdminSetDisabled { UserId = user, Disabled = disabled }),
        [MessageType.AdminStats] = Gen.Const<IMessage>(new AdminStats()),
        [MessageType.AdminUser] = s_adminUser.Select(u => (IMessage)u),
        [MessageType.AdminToken] = Gen.Select(Text(s_limits.MaxCredentialBytes), Gen.ULong, Gen.UInt, Gen.Long,
            (token, user, device, expires) => (IMessage)new AdminToken { Token = token, UserId = user, DeviceId = device, ExpiresMs = expires }),
        [MessageType.AdminUserList] = Gen.Select(List(s_adminUser), Gen.Bool, (items, more) => (IMessage)new AdminUserList { Items = items, More = more }),
        [MessageType.AdminStatsResult] = Gen.ULong.Array[8].Select(v => (IMessage)new AdminStatsResult
        {
            Connections = v[0], OnlineUsers = v[1], Users = v[2], Conversations = v[3], Messages = v[4], DiskBytes = v[5], UptimeMs = v[6], Delivered = v[7],
        }),
        [MessageType.AdminInspectLog] = Gen.Select(s_nonZeroULong, Gen.ULong, Gen.UInt,
            (conversation, from, limit) => (IMessage)new AdminInspectLog { ConversationId = conversation, FromSeq = from, Limit = limit }),
        [MessageType.AdminLogPage] = Gen.Select(Gen.ULong, Gen.Byte, s_name, Gen.UInt, Gen.ULong, Gen.UInt, s_deliver.Array[0, 5], Gen.Bool,
            (conversation, kind, title, epoch, head, members, entries, more) => (IMessage)new AdminLogPage
            {
                ConversationId = conversation, Kind = (ConversationKind)kind, Title = title, Epoch = epoch, Head = head, MemberCount = members, Entries = entries, More = more,
            }),
        [MessageType.AdminListTokens] = Text(s_limits.MaxNameBytes, minCodePoints: 1).Select(name => (IMessage)new AdminListTokens { UserName = name }),
        [MessageType.AdminTokenList] = List(Gen.Select(s_tokenId, Gen.UInt, s_name, Gen.Long, Gen.Long, Gen.Bool,
            (id, device, name, created, expires, revoked) => new AdminTokenInfo { TokenId = id, DeviceId = device, DeviceName = name, CreatedMs = created, ExpiresMs = expires, Revoked = revoked }))
            .Select(items => (IMessage)new AdminTokenList { Items = items }),
        [MessageType.AdminRevokeToken] = Gen.Select(Text(s_limits.MaxNameBytes, minCodePoints: 1), s_tokenId,
            (name, id) => (IMessage)new AdminRevokeToken { UserName = name, TokenId = id }),
        [MessageType.AdminListUserConversations] = Gen.Select(Text(s_limits.MaxNameBytes, minCodePoints: 1), Gen.ULong, Gen.UInt,
            (name, after, limit) => (IMessage)new AdminListUserConversations { UserName = name, AfterConversationId = after, Limit = limit }),
        [MessageType.AdminSetRole] = Gen.Select(s_nonZeroULong, s_nonZeroULong, Gen.Byte[0, 3],
            (conversation, user, role) => (IMessage)new AdminSetRole { ConversationId = conversation, UserId = user, Role = (MemberRole)role }),
        [MessageType.AdminCheckpoint] = Text(AdminCheckpoint.MaxPathBytes, minCodePoints: 1)
            .Where(path => !string.IsNullOrWhiteSpace(path) && !path.Contains('\0', StringComparison.Ordinal))
            .Select(path => (IMessage)new AdminCheckpoint { TargetDirectory = path }),
        [MessageType.AdminAuditQuery] = Gen.Select(Gen.ULong, Gen.UInt[0, AdminAuditQuery.MaxPage], s_name, s_name, Gen.Long[0, long.MaxValue],
            (after, limit, user, action, since) => (IMessage)new AdminAuditQuery { AfterId = after, Limit = limit, UserName = user, Action = action, SinceMs = since }),
        [MessageType.AdminAuditPage] = Gen.Select(
            Gen.Select(
                Gen.Select(Gen.ULong, Gen.Long, Gen.UShort, s_name),
                Gen.Select(Gen.ULong, Gen.UInt, Gen.ULong, Gen.ULong),
                Text(AdminAuditQuery.MaxTextBytes),
                Text(AdminAuditQuery.MaxTextBytes),
                (a, b, detail, remote) => new AdminAuditEvent
                {
                    Id = a.Item1, TimeMs = a.Item2, Action = a.Item3, ActionName = a.Item4, ActorUserId = b.Item1, ActorDeviceId = b.Item2,
                    SubjectUserId = b.Item3, ConversationId = b.Item4, Detail = detail, RemoteAddress = remote,
                }).Array[0, 5],
            Gen.ULong,
            Gen.Bool,
            (items, last, more) => (IMessage)new AdminAuditPage { Items = items, LastId = last, More = more }),
        [MessageType.AdminTlsReload] = Gen.Const<IMessage>(new AdminTlsReload()),
        [MessageType.AdminCertificate] = Gen.Select(s_name, s_name, Gen.Long,
            (subject, fingerprint, notAfter) => (IMessage)new AdminCertificate { Subject = subject, Fingerprint = fingerprint, NotAfterMs = notAfter }),
        [MessageType.AdminRotateKey] = Gen.Const<IMessage>(new AdminRotateKey()),
        [MessageType.AdminKeyStatus] = Gen.Const<IMessage>(new AdminKeyStatus()),
        [MessageType.AdminKeyRing] = Gen.Select(Gen.UInt[0, 255], Gen.UInt[1, 255].Array[0, 10],
            (active, ids) => (IMessage)new AdminKeyRing { ActiveKeyId = active, KeyIds = ids }),
        [MessageType.Logout] = Gen.Bool.Select(all => (IMessage)new Logout { AllDevices = all }),
        [MessageType.ChangePassword] = Gen.Select(Text(s_limits.MaxCredentialBytes), Text(s_limits.MaxCredentialBytes, minCodePoints: 1),
            (current, next) => (IMessage)new ChangePassword { CurrentPassword = current, NewPassword = next }),
        [MessageType.TotpEnroll] = s_name.Select(issuer => (IMessage)new TotpEnroll { Issuer = issuer }),
        [MessageType.TotpConfirm] = Text(s_limits.MaxNameBytes, minCodePoints: 1).Select(code => (IMessage)new TotpConfirm { Code = code }),
        [MessageType.TotpDisable] = Text(s_limits.MaxNameBytes, minCodePoints: 1).Select(code => (IMessage)new TotpDisable { Code = code }),
        [MessageType.AdminSetPassword] = Gen.Select(Text(s_limits.MaxNameBytes, minCodePoints: 1), Text(s_limits.MaxCredentialBytes, minCodePoints: 1), Gen.Bool,
            (user, password, mfa) => (IMessage)new AdminSetPassword { UserName = user, Password = password, DisableMfa = mfa }),
        [MessageType.RefreshSession] = Text(s_limits.MaxCredentialBytes, minCodePoints: 1).Select(token => (IMessage)new RefreshSession { RefreshToken = token }),
        [MessageType.TotpEnrollment] = Gen.Select(s_name, Text(s_limits.MaxCredentialBytes),
            (secret, uri) => (IMessage)new TotpEnrollment { Secret = secret, Uri = uri }),
        [MessageType.TokenPair] = Gen.Select(Text(s_limits.MaxCredentialBytes), Gen.Long, Text(s_limits.MaxCredentialBytes), Gen.Long,
            (access, expires, refresh, refreshExpires) => (IMessage)new TokenPair { AccessToken = access, ExpiresMs = expires, RefreshToken = refresh, RefreshExpiresMs = refreshExpires }),
    };

    /// <summary>Any valid message of any type.</summary>
    public static Gen<IMessage> Any { get; } = Gen.OneOf([.. ByType.Values]);

    /// <summary>Text of at most <paramref name="maxBytes"/> UTF-8 bytes, mixing characters of every UTF-8 length.</summary>
    public static Gen<string> Text(int maxBytes, int minCodePoints = 0) =>
        s_codePoint.Array[minCodePoints, Math.Min(maxBytes, 300)].Select(codePoints =>
        {
            var text = new StringBuilder();
            int bytes = 0;
            foreach (int codePoint in codePoints)
            {
                string character = char.ConvertFromUtf32(codePoint);
                int size = Encoding.UTF8.GetByteCount(character);
                if (bytes + size > maxBytes)
                {
                    break;
                }

                text.Append(character);
                bytes += size;
            }

            return text.ToString();
        });

    private static Gen<string?> Optional(Gen<string> text) => Gen.Select(Gen.Int[0, 3], text, (n, s) => n == 0 ? null : s);

    private static Gen<T[]> List<T>(Gen<T> item, int minItems = 0) =>
        s_listLength.SelectMany(n => item.Array[Math.Max(n, minItems)]);
}
