using System.Text;
using Wren.Protocol.Messages;

namespace Wren.Protocol.Tests;

/// <summary>One canonical frame: a realistic sample message, its request id, a description in words and its exact bytes.</summary>
/// <param name="Type">The frame type.</param>
/// <param name="RequestId">1 for requests and their answers, 0 for pushes and fire-and-forget frames.</param>
/// <param name="Message">The sample.</param>
/// <param name="Description">The sample in words, as shown in docs/protocol.md.</param>
/// <param name="Hex">The whole frame in lowercase hex, spaces between the groups shown in docs/protocol.md.</param>
internal sealed record GoldenVector(MessageType Type, uint RequestId, IMessage Message, string Description, string Hex)
{
    public byte[] Bytes => Tests.Hex.Parse(Hex);
}

/// <summary>
/// The golden vectors: one per message type. The hex is written out by hand-checked value, never regenerated from the
/// encoder, so that a change in the bytes on the wire fails a test. docs/protocol.md, appendix A, shows the same table.
/// </summary>
internal static class GoldenVectors
{
    private const long Time = 1_700_000_000_000; // 2023-11-14T22:13:20Z

    private static readonly byte[] s_hi = Encoding.UTF8.GetBytes("hi");

    private static Deliver SampleDeliver() => new()
    {
        ConversationId = 42,
        Seq = 7,
        Epoch = 1,
        SenderUserId = 1001,
        SenderDeviceId = 3,
        ServerTimeMs = Time,
        ClientMsgId = "c-1",
        Kind = EntryKind.Message,
        Body = s_hi,
    };

    private static ConversationInfo SampleConversation() => new()
    {
        ConversationId = 42,
        Kind = ConversationKind.Group,
        Title = "team",
        Epoch = 1,
        Head = 7,
        MemberCount = 3,
        CreatedMs = Time,
        MyRole = MemberRole.Owner,
        ReadSeq = 5,
        PeerUserId = 0,
    };

    public static IReadOnlyList<GoldenVector> All { get; } =
    [
        new(MessageType.Hello, 1,
            new Hello { MinVersion = 1, MaxVersion = 1, ClientName = "wren-cli", ClientVersion = "0.1.0", Capabilities = ["typing"] },
            "Request 1: versions 1 to 1, client \"wren-cli\" version \"0.1.0\", capabilities [\"typing\"].",
            "00000020 01 00 00000001 95 01 01 a87772656e2d636c69 a5302e312e30 91a6747970696e67"),
        new(MessageType.Welcome, 1,
            new Welcome
            {
                Version = 1,
                ServerName = "wren",
                ServerVersion = "0.1.0",
                ServerTimeMs = Time,
                Limits = new ServerLimits
                {
                    MaxFrameLength = 1_048_576,
                    MaxMessageBodyBytes = 65_536,
                    PingIntervalMs = 30_000,
                    IdleTimeoutMs = 90_000,
                    HandshakeTimeoutMs = 10_000,
                    MaxSyncBatch = 500,
                    MaxHistoryPage = 100,
                    MaxListItems = 1000,
                },
                Capabilities = ["typing"],
            },
            "Answer to request 1: version 1, server \"wren\" \"0.1.0\", server time 1700000000000, limits [max frame length 1048576, "
            + "max body 65536, ping interval 30000 ms, idle timeout 90000 ms, handshake timeout 10000 ms, sync batch 500, "
            + "history page 100, list items 1000], capabilities [\"typing\"].",
            "00000041 02 00 00000001 96 01 a47772656e a5302e312e30 cf0000018bcfe56800 98ce00100000ce00010000cd7530ce00015f90cd2710cd01f464cd03e8 91a6747970696e67"),
        new(MessageType.Auth, 1,
            new Auth { Method = AuthMethod.Token, Token = "tok-1" },
            "Request 1: method Token (1), token \"tok-1\"; user name, password, TOTP code and device name nil.",
            "00000012 03 00 00000001 96 01 a5746f6b2d31 c0 c0 c0 c0"),
        new(MessageType.AuthOk, 1,
            new AuthOk { UserId = 1001, UserName = "alice", DeviceId = 3, SessionId = 77, ExpiresMs = 0, IssuedToken = null },
            "Answer to request 1: user 1001 \"alice\", device 3, session 77, expires 0 (never), issued token nil.",
            "00000014 04 00 00000001 96 cd03e9 a5616c696365 03 4d 00 c0"),
        new(MessageType.Ping, 1, EmptyMessage.Ping, "Request 1; empty body.", "00000006 05 00 00000001"),
        new(MessageType.Pong, 1, EmptyMessage.Pong, "Answer to the Ping with request id 1; empty body.", "00000006 06 00 00000001"),
        new(MessageType.GoAway, 0,
            new GoAway { Code = ErrorCode.ShuttingDown, Message = "restart", ReconnectAfterMs = 5000 },
            "Push (request id 0): code ShuttingDown (111), message \"restart\", reconnect after 5000 ms.",
            "00000013 07 00 00000000 93 6f a772657374617274 cd1388"),
        new(MessageType.Error, 1,
            new Error { Code = ErrorCode.NotFound, Message = "no such conversation", RetryAfterMs = 0 },
            "Answer to request 1: code NotFound (202), message \"no such conversation\", retry after 0.",
            "0000001f 08 00 00000001 93 ccca b46e6f207375636820636f6e766572736174696f6e 00"),
        new(MessageType.Ok, 1, EmptyMessage.Ok, "Answer to request 1; empty body.", "00000006 09 00 00000001"),
        new(MessageType.Send, 1,
            new Send { ConversationId = 42, ClientMsgId = "c-1", Kind = EntryKind.Message, Body = s_hi },
            "Request 1: conversation 42, client msg id \"c-1\", kind Message (0), body the UTF-8 bytes of \"hi\".",
            "00000011 10 00 00000001 94 2a a3632d31 00 c4026869"),
        new(MessageType.SendAck, 1,
            new SendAck { ConversationId = 42, Seq = 7, Epoch = 1, ServerTimeMs = Time, Duplicate = false },
            "Answer to request 1: conversation 42, seq 7, epoch 1, server time 1700000000000, duplicate false.",
            "00000014 11 00 00000001 95 2a 07 01 cf0000018bcfe56800 c2"),
        new(MessageType.Deliver, 0,
            SampleDeliver(),
            "Live push (request id 0): conversation 42, seq 7, epoch 1, sender user 1001 device 3, server time 1700000000000, "
            + "client msg id \"c-1\", kind Message (0), body the UTF-8 bytes of \"hi\".",
            "00000020 12 00 00000000 99 2a 07 01 cd03e9 03 cf0000018bcfe56800 a3632d31 00 c4026869"),
        new(MessageType.Ack, 0,
            new Ack { Items = [new AckItem { ConversationId = 42, Seq = 7 }] },
            "Fire-and-forget (request id 0): items [conversation 42 up to seq 7].",
            "0000000b 13 00 00000000 91 91922a07"),
        new(MessageType.SyncConversation, 1,
            new SyncConversation { ConversationId = 42, AfterSeq = 6, Epoch = 1, Limit = 0 },
            "Request 1: conversation 42, after seq 6, epoch 1, limit 0 (server maximum).",
            "0000000b 20 00 00000001 94 2a 06 01 00"),
        new(MessageType.SyncAll, 1,
            new SyncAll { Limit = 500, Cursors = [new SyncCursor { ConversationId = 42, Epoch = 1, Seq = 6 }] },
            "Request 1: limit 500, cursors [conversation 42, epoch 1, seq 6].",
            "0000000f 21 00 00000001 92 cd01f4 91932a0106"),
        new(MessageType.SyncDone, 1,
            new SyncDone { Conversations = [new SyncState { ConversationId = 42, Epoch = 1, Head = 7, SentUpTo = 7, ReadSeq = 5 }], More = false },
            "End of the stream for request 1: conversations [conversation 42, epoch 1, head 7, sent up to 7, read seq 5], more false.",
            "0000000f 22 00 00000001 92 91952a01070705 c2"),
        new(MessageType.History, 1,
            new History { ConversationId = 42, BeforeSeq = 8, Limit = 50 },
            "Request 1: conversation 42, before seq 8, limit 50.",
            "0000000a 23 00 00000001 93 2a 08 32"),
        new(MessageType.HistoryPage, 1,
            new HistoryPage { ConversationId = 42, Epoch = 1, Messages = [SampleDeliver()], More = false },
            "Answer to request 1: conversation 42, epoch 1, messages [the Deliver sample's body], more false.",
            "00000025 24 00 00000001 94 2a 01 91992a0701cd03e903cf0000018bcfe56800a3632d3100c4026869 c2"),
        new(MessageType.CreateGroup, 1,
            new CreateGroup { Title = "team", Members = [1002, 1003] },
            "Request 1: title \"team\", members [1002, 1003].",
            "00000013 30 00 00000001 92 a47465616d 92cd03eacd03eb"),
        new(MessageType.ConversationInfo, 1,
            SampleConversation(),
            "Answer to request 1: conversation 42, kind Group (2), title \"team\", epoch 1, head 7, 3 members, created 1700000000000, "
            + "my role Owner (3), read seq 5, peer user 0.",
            "0000001d 31 00 00000001 9a 2a 02 a47465616d 01 07 03 cf0000018bcfe56800 03 05 00"),
        new(MessageType.OpenDirect, 1,
            new OpenDirect { PeerUserId = 1002 },
            "Request 1: peer user 1002.",
            "0000000a 32 00 00000001 91 cd03ea"),
        new(MessageType.AddMembers, 1,
            new AddMembers { ConversationId = 42, UserIds = [1004] },
            "Request 1: conversation 42, user ids [1004].",
            "0000000c 33 00 00000001 92 2a 91cd03ec"),
        new(MessageType.RemoveMembers, 1,
            new RemoveMembers { ConversationId = 42, UserIds = [1003] },
            "Request 1: conversation 42, user ids [1003].",
            "0000000c 34 00 00000001 92 2a 91cd03eb"),
        new(MessageType.ListMembers, 1,
            new ListMembers { ConversationId = 42, AfterUserId = 0, Limit = 100 },
            "Request 1: conversation 42, after user 0 (first page), limit 100.",
            "0000000a 35 00 00000001 93 2a 00 64"),
        new(MessageType.MemberList, 1,
            new MemberList
            {
                ConversationId = 42,
                Members =
                [
                    new MemberInfo { UserId = 1001, Role = MemberRole.Owner, JoinedMs = Time },
                    new MemberInfo { UserId = 1002, Role = MemberRole.Member, JoinedMs = Time },
                ],
                More = false,
            },
            "Answer to request 1: conversation 42, members [user 1001 Owner (3) joined 1700000000000, user 1002 Member (0) joined "
            + "1700000000000], more false.",
            "00000026 36 00 00000001 93 2a 9293cd03e903cf0000018bcfe5680093cd03ea00cf0000018bcfe56800 c2"),
        new(MessageType.ListConversations, 1,
            new ListConversations { AfterConversationId = 0, Limit = 100 },
            "Request 1: after conversation 0 (first page), limit 100.",
            "00000009 37 00 00000001 92 00 64"),
        new(MessageType.ConversationList, 1,
            new ConversationList { Items = [SampleConversation()], More = false },
            "Answer to request 1: items [the ConversationInfo sample's body], more false.",
            "00000020 38 00 00000001 92 919a2a02a47465616d010703cf0000018bcfe56800030500 c2"),
        new(MessageType.MarkRead, 1,
            new MarkRead { ConversationId = 42, Seq = 7 },
            "Request 1: conversation 42, read up to seq 7.",
            "00000009 40 00 00000001 92 2a 07"),
        new(MessageType.ReadReceipt, 0,
            new ReadReceipt { ConversationId = 42, UserId = 1002, Seq = 7 },
            "Push (request id 0): conversation 42, user 1002 read up to seq 7.",
            "0000000c 41 00 00000000 93 2a cd03ea 07"),
        new(MessageType.Typing, 0,
            new Typing { ConversationId = 42, Active = true, UserId = 1001 },
            "Relayed by the server (request id 0): conversation 42, active true, user 1001.",
            "0000000c 42 00 00000000 93 2a c3 cd03e9"),
        new(MessageType.Presence, 0,
            new Presence { UserId = 1002, Status = PresenceStatus.Online, LastSeenMs = Time },
            "Push (request id 0): user 1002, status Online (1), last seen 1700000000000.",
            "00000014 43 00 00000000 93 cd03ea 01 cf0000018bcfe56800"),
        new(MessageType.QueryPresence, 1,
            new QueryPresence { UserIds = [1002, 1003] },
            "Request 1: user ids [1002, 1003].",
            "0000000e 44 00 00000001 91 92cd03eacd03eb"),
        new(MessageType.PresenceList, 1,
            new PresenceList { Items = [new Presence { UserId = 1002, Status = PresenceStatus.Online, LastSeenMs = Time }] },
            "Answer to request 1: items [user 1002, Online (1), last seen 1700000000000].",
            "00000016 45 00 00000001 91 9193cd03ea01cf0000018bcfe56800"),
        new(MessageType.ResolveUsers, 1,
            new ResolveUsers { UserIds = [1002], UserNames = ["bob"] },
            "Request 1: user ids [1002], user names [\"bob\"].",
            "00000010 46 00 00000001 92 91cd03ea 91a3626f62"),
        new(MessageType.UserList, 1,
            new UserList { Items = [new UserInfo { UserId = 1002, UserName = "bob", DisplayName = "Bob" }] },
            "Answer to request 1: items [user 1002, name \"bob\", display name \"Bob\"].",
            "00000014 47 00 00000001 91 9193cd03eaa3626f62a3426f62"),
        new(MessageType.AdminCreateUser, 1,
            new AdminCreateUser { UserName = "bob", DisplayName = "Bob", IsAdmin = false },
            "Request 1: user name \"bob\", display name \"Bob\", not an administrator.",
            "00000010 80 00 00000001 93 a3626f62 a3426f62 c2"),
        new(MessageType.AdminIssueToken, 1,
            new AdminIssueToken { UserName = "bob", DeviceName = "phone", TtlSeconds = 86_400 },
            "Request 1: user \"bob\", device \"phone\", lifetime 86400 s.",
            "00000016 81 00 00000001 93 a3626f62 a570686f6e65 ce00015180"),
        new(MessageType.AdminListUsers, 1,
            new AdminListUsers { AfterUserId = 0, Limit = 100 },
            "Request 1: after user 0, limit 100.",
            "00000009 82 00 00000001 92 00 64"),
        new(MessageType.AdminSetDisabled, 1,
            new AdminSetDisabled { UserId = 1002, Disabled = true },
            "Request 1: disable user 1002.",
            "0000000b 83 00 00000001 92 cd03ea c3"),
        new(MessageType.AdminStats, 1,
            new AdminStats(),
            "Request 1: no fields (an empty array).",
            "00000007 84 00 00000001 90"),
        new(MessageType.AdminUser, 1,
            SampleAdminUser(),
            "Answer to request 1: user 1002, \"bob\", \"Bob\", not an administrator, enabled, created 1700000000000.",
            "0000001d 90 00 00000001 96 cd03ea a3626f62 a3426f62 c2 c2 cf0000018bcfe56800"),
        new(MessageType.AdminToken, 1,
            new AdminToken { Token = "wren_abc", UserId = 1002, DeviceId = 2, ExpiresMs = Time },
            "Answer to request 1: token \"wren_abc\" for user 1002 device 2, expires 1700000000000.",
            "0000001d 91 00 00000001 94 a87772656e5f616263 cd03ea 02 cf0000018bcfe56800"),
        new(MessageType.AdminUserList, 1,
            new AdminUserList { Items = [SampleAdminUser()], More = false },
            "Answer to request 1: items [the AdminUser above], more false.",
            "00000020 92 00 00000001 92 9196cd03eaa3626f62a3426f62c2c2cf0000018bcfe56800 c2"),
        new(MessageType.AdminStatsResult, 1,
            new AdminStatsResult { Connections = 12, OnlineUsers = 5, Users = 40, Conversations = 30, Messages = 1000, DiskBytes = 1_048_576, UptimeMs = 3_600_000, Delivered = 2000 },
            "Answer to request 1: 12 connections, 5 users online, 40 users, 30 conversations, 1000 messages, 1048576 bytes on disk, up 3600000 ms, 2000 delivered.",
            "0000001b 93 00 00000001 98 0c 05 28 1e cd03e8 ce00100000 ce0036ee80 cd07d0"),
    ];

    private static AdminUser SampleAdminUser() => new()
    {
        UserId = 1002,
        UserName = "bob",
        DisplayName = "Bob",
        IsAdmin = false,
        Disabled = false,
        CreatedMs = Time,
    };

    public static GoldenVector For(MessageType type) => All.Single(v => v.Type == type);

    public static TheoryData<MessageType> Types => [.. All.Select(v => v.Type)];
}
