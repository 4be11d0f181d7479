using Wren.Protocol.Messages;

namespace Wren.Protocol.Tests;

/// <summary>
/// Every field limit of docs/protocol.md section 10, at the limit and one past it, with the documented error and field
/// name. Lengths are UTF-8 bytes, so each text limit is also crossed with multi-byte characters.
/// </summary>
public class FieldLimitTests
{
    private const string TwoByte = "é";
    private const string ThreeByte = "€";
    private const string FourByte = "😀";

    private static readonly Dictionary<string, LimitCase> s_clientMsgId = new()
    {
        ["empty is invalid"] = Send("", ErrorCode.InvalidArgument, "client_msg_id"),
        ["1 byte is accepted"] = Send("x", ErrorCode.None, null),
        ["64 ASCII bytes are accepted"] = Send(Repeat("a", 64), ErrorCode.None, null),
        ["65 ASCII bytes are invalid"] = Send(Repeat("a", 65), ErrorCode.InvalidArgument, "client_msg_id"),
        ["32 two-byte chars (64 bytes) are accepted"] = Send(Repeat(TwoByte, 32), ErrorCode.None, null),
        ["21 three-byte chars and one two-byte char (65 bytes) are invalid"] = Send(Repeat(ThreeByte, 21) + TwoByte, ErrorCode.InvalidArgument, "client_msg_id"),
        ["16 four-byte chars (64 bytes) are accepted"] = Send(Repeat(FourByte, 16), ErrorCode.None, null),
        ["16 four-byte chars and one ASCII byte (65 bytes) are invalid"] = Send(Repeat(FourByte, 16) + "a", ErrorCode.InvalidArgument, "client_msg_id"),
        ["65 bytes in a Deliver are invalid"] = new(() => new Deliver { ClientMsgId = Repeat("a", 65) }, ErrorCode.InvalidArgument, "client_msg_id"),
        ["a custom limit of 3 bytes accepts 3"] = Send("c-1", ErrorCode.None, null, ProtocolLimits.Default with { MaxClientMessageIdBytes = 3 }),
        ["a custom limit of 3 bytes rejects 4"] = Send("c-10", ErrorCode.InvalidArgument, "client_msg_id", ProtocolLimits.Default with { MaxClientMessageIdBytes = 3 }),
    };

    private static readonly Dictionary<string, LimitCase> s_body = new()
    {
        ["65536 bytes are accepted"] = SendBody(65_536, ErrorCode.None, null),
        ["65537 bytes exceed the limit"] = SendBody(65_537, ErrorCode.LimitExceeded, "body"),
        ["empty is accepted"] = SendBody(0, ErrorCode.None, null),
        ["65537 bytes in a Deliver exceed the limit"] = new(() => new Deliver { ClientMsgId = "c-1", Body = new byte[65_537] }, ErrorCode.LimitExceeded, "body"),
        ["a Deliver over the limit inside a HistoryPage makes the page invalid"] =
            new(() => new HistoryPage { ConversationId = 42, Messages = [new Deliver { Body = new byte[65_537] }] }, ErrorCode.InvalidArgument, "messages"),
        ["a custom limit of 2 bytes accepts 2"] = SendBody(2, ErrorCode.None, null, ProtocolLimits.Default with { MaxMessageBodyBytes = 2 }),
        ["a custom limit of 2 bytes rejects 3"] = SendBody(3, ErrorCode.LimitExceeded, "body", ProtocolLimits.Default with { MaxMessageBodyBytes = 2 }),
    };

    private static readonly Dictionary<string, LimitCase> s_lists = ListCases();

    private static readonly Dictionary<string, LimitCase> s_names = NameCases();

    private static readonly Dictionary<string, LimitCase> s_credentials = new()
    {
        ["token of 8192 bytes is accepted"] = new(() => new Auth { Token = Repeat("t", 8192) }, ErrorCode.None, null),
        ["token of 8193 bytes is invalid"] = new(() => new Auth { Token = Repeat("t", 8193) }, ErrorCode.InvalidArgument, "token"),
        ["token of 2048 four-byte chars (8192 bytes) is accepted"] = new(() => new Auth { Token = Repeat(FourByte, 2048) }, ErrorCode.None, null),
        ["token of 2731 three-byte chars (8193 bytes) is invalid"] = new(() => new Auth { Token = Repeat(ThreeByte, 2731) }, ErrorCode.InvalidArgument, "token"),
        ["password of 8192 bytes is accepted"] = new(() => Password(Repeat("p", 8192)), ErrorCode.None, null),
        ["password of 8193 bytes is invalid"] = new(() => Password(Repeat("p", 8193)), ErrorCode.InvalidArgument, "password"),
        ["issued token of 8193 bytes is invalid"] = new(() => new AuthOk { UserName = "alice", IssuedToken = Repeat("t", 8193) }, ErrorCode.InvalidArgument, "issued_token"),
    };

    private static readonly Dictionary<string, LimitCase> s_rules = new()
    {
        ["Send to conversation 0"] = new(() => new Send { ClientMsgId = "c-1" }, ErrorCode.InvalidArgument, "conversation_id"),
        ["Send of a reserved kind"] = new(() => new Send { ConversationId = 42, ClientMsgId = "c-1", Kind = EntryKind.Recall }, ErrorCode.InvalidArgument, "kind"),
        ["SyncConversation of conversation 0"] = new(() => new SyncConversation(), ErrorCode.InvalidArgument, "conversation_id"),
        ["History of conversation 0"] = new(() => new History(), ErrorCode.InvalidArgument, "conversation_id"),
        ["OpenDirect with user 0"] = new(() => new OpenDirect(), ErrorCode.InvalidArgument, "peer_user_id"),
        ["AddMembers to conversation 0"] = new(() => new AddMembers { UserIds = [1] }, ErrorCode.InvalidArgument, "conversation_id"),
        ["AddMembers of nobody"] = new(() => new AddMembers { ConversationId = 42 }, ErrorCode.InvalidArgument, "user_ids"),
        ["RemoveMembers of nobody"] = new(() => new RemoveMembers { ConversationId = 42 }, ErrorCode.InvalidArgument, "user_ids"),
        ["ListMembers of conversation 0"] = new(() => new ListMembers(), ErrorCode.InvalidArgument, "conversation_id"),
        ["MarkRead of conversation 0"] = new(() => new MarkRead(), ErrorCode.InvalidArgument, "conversation_id"),
        ["Typing in conversation 0"] = new(() => new Typing(), ErrorCode.InvalidArgument, "conversation_id"),
        ["Ack of conversation 0"] = new(() => new Ack { Items = [new AckItem { Seq = 1 }] }, ErrorCode.InvalidArgument, "items"),
        ["SyncAll cursor of conversation 0"] = new(() => new SyncAll { Cursors = [new SyncCursor()] }, ErrorCode.InvalidArgument, "cursors"),
        // Version ranges are negotiated by the session (an empty range is UnsupportedVersion), not rejected by the codec.
        ["Hello with min version 0"] = new(() => new Hello { MinVersion = 0, MaxVersion = 1 }, ErrorCode.None, null),
        ["Hello with min version above max version"] = new(() => new Hello { MinVersion = 2, MaxVersion = 1 }, ErrorCode.None, null),
        ["Hello offering versions 1 to 7"] = new(() => new Hello { MinVersion = 1, MaxVersion = 7 }, ErrorCode.None, null),
        ["Auth with method 0"] = new(() => new Auth { Method = 0, Token = "t" }, ErrorCode.InvalidArgument, "method"),
        ["Auth with method 5"] = new(() => new Auth { Method = (AuthMethod)5, Token = "t" }, ErrorCode.InvalidArgument, "method"),
        ["Auth by token without a token"] = new(() => new Auth { Method = AuthMethod.Token }, ErrorCode.InvalidArgument, "token"),
        ["Auth by OIDC with an empty token"] = new(() => new Auth { Method = AuthMethod.OidcToken, Token = "" }, ErrorCode.InvalidArgument, "token"),
        ["Auth by password without a user name"] = new(() => new Auth { Method = AuthMethod.Password, Password = "p" }, ErrorCode.InvalidArgument, "user_name"),
        ["Auth by password without a password"] = new(() => new Auth { Method = AuthMethod.Password, UserName = "u" }, ErrorCode.InvalidArgument, "password"),
        ["Welcome without limits"] = new(() => new Welcome { Limits = null! }, ErrorCode.InvalidArgument, "limits"),
        ["CreateGroup with nil members"] = new(() => new CreateGroup { Members = null! }, ErrorCode.InvalidArgument, "members"),
        ["Ack with a nil item"] = new(() => new Ack { Items = [null!] }, ErrorCode.InvalidArgument, "items"),
        ["MemberList with a nil member"] = new(() => new MemberList { Members = [null!] }, ErrorCode.InvalidArgument, "members"),
        ["PresenceList with a nil item"] = new(() => new PresenceList { Items = [null!] }, ErrorCode.InvalidArgument, "items"),
        ["SyncDone with nil conversations"] = new(() => new SyncDone { Conversations = null! }, ErrorCode.InvalidArgument, "conversations"),
        ["Hello with a nil client name"] = new(() => new Hello { ClientName = null! }, ErrorCode.InvalidArgument, "client_name"),
        ["AdminInspectLog of conversation 0"] = new(() => new AdminInspectLog(), ErrorCode.InvalidArgument, "conversation_id"),
        ["AdminLogPage with a nil entry"] = new(() => new AdminLogPage { Entries = [null!] }, ErrorCode.InvalidArgument, "entries"),
        ["AdminListTokens without a user name"] = new(() => new AdminListTokens(), ErrorCode.InvalidArgument, "user_name"),
        ["AdminRevokeToken with a 16-character lowercase hex id"] = new(() => new AdminRevokeToken { UserName = "bob", TokenId = "0123456789abcdef" }, ErrorCode.None, null),
        ["AdminRevokeToken with a 15-character id"] = new(() => new AdminRevokeToken { UserName = "bob", TokenId = "0123456789abcde" }, ErrorCode.InvalidArgument, "token_id"),
        ["AdminRevokeToken with a 17-character id"] = new(() => new AdminRevokeToken { UserName = "bob", TokenId = "0123456789abcdef0" }, ErrorCode.InvalidArgument, "token_id"),
        ["AdminRevokeToken with an uppercase id"] = new(() => new AdminRevokeToken { UserName = "bob", TokenId = "0123456789ABCDEF" }, ErrorCode.InvalidArgument, "token_id"),
        ["AdminRevokeToken without a user name"] = new(() => new AdminRevokeToken { TokenId = "0123456789abcdef" }, ErrorCode.InvalidArgument, "user_name"),
        ["AdminTokenList with a malformed token id"] = new(() => new AdminTokenList { Items = [new AdminTokenInfo { TokenId = "xyz" }] }, ErrorCode.InvalidArgument, "items"),
        ["AdminListUserConversations without a user name"] = new(() => new AdminListUserConversations(), ErrorCode.InvalidArgument, "user_name"),
        ["AdminSetRole in conversation 0"] = new(() => new AdminSetRole { UserId = 1 }, ErrorCode.InvalidArgument, "conversation_id"),
        ["AdminSetRole of user 0"] = new(() => new AdminSetRole { ConversationId = 42 }, ErrorCode.InvalidArgument, "user_id"),
        ["AdminSetRole to owner"] = new(() => new AdminSetRole { ConversationId = 42, UserId = 1, Role = MemberRole.Owner }, ErrorCode.None, null),
        ["AdminSetRole to role 4"] = new(() => new AdminSetRole { ConversationId = 42, UserId = 1, Role = (MemberRole)4 }, ErrorCode.InvalidArgument, "role"),
        ["AdminCheckpoint without a directory"] = new(() => new AdminCheckpoint(), ErrorCode.InvalidArgument, "target_directory"),
        ["AdminCheckpoint to a blank directory"] = new(() => new AdminCheckpoint { TargetDirectory = "  " }, ErrorCode.InvalidArgument, "target_directory"),
        ["AdminCheckpoint to a path with a NUL"] = new(() => new AdminCheckpoint { TargetDirectory = "/tmp/a\0b" }, ErrorCode.InvalidArgument, "target_directory"),
        ["AdminCheckpoint to a path of 4096 bytes"] = new(() => new AdminCheckpoint { TargetDirectory = "/" + Repeat("d", 4095) }, ErrorCode.None, null),
        ["AdminCheckpoint to a path of 4097 bytes"] = new(() => new AdminCheckpoint { TargetDirectory = "/" + Repeat("d", 4096) }, ErrorCode.InvalidArgument, "target_directory"),
        ["AdminCheckpoint to a path of 1365 three-byte chars and a slash (4096 bytes)"] = new(() => new AdminCheckpoint { TargetDirectory = "/" + Repeat(ThreeByte, 1365) }, ErrorCode.None, null),
        ["AdminCheckpoint to a path of 1024 four-byte chars and a slash (4097 bytes)"] = new(() => new AdminCheckpoint { TargetDirectory = "/" + Repeat(FourByte, 1024) }, ErrorCode.InvalidArgument, "target_directory"),
        ["AdminAuditQuery with a page of 256"] = new(() => new AdminAuditQuery { Limit = 256 }, ErrorCode.None, null),
        ["AdminAuditQuery with a page of 257"] = new(() => new AdminAuditQuery { Limit = 257 }, ErrorCode.LimitExceeded, "limit"),
        ["AdminAuditQuery since a negative time"] = new(() => new AdminAuditQuery { SinceMs = -1 }, ErrorCode.InvalidArgument, "since_ms"),
        ["AdminAuditPage with a detail of 1024 bytes"] = new(() => new AdminAuditPage { Items = [new AdminAuditEvent { Detail = Repeat("d", 1024) }] }, ErrorCode.None, null),
        ["AdminAuditPage with a detail of 1025 bytes"] = new(() => new AdminAuditPage { Items = [new AdminAuditEvent { Detail = Repeat("d", 1025) }] }, ErrorCode.InvalidArgument, "items"),
        ["AdminAuditPage with 257 events"] = new(() => new AdminAuditPage { Items = [.. Enumerable.Range(0, 257).Select(_ => new AdminAuditEvent())] }, ErrorCode.LimitExceeded, "items"),
        ["AdminKeyRing with active key 256"] = new(() => new AdminKeyRing { ActiveKeyId = 256 }, ErrorCode.InvalidArgument, "key_ids"),
    };

    public static TheoryData<string> ClientMsgIdCases => [.. s_clientMsgId.Keys];

    public static TheoryData<string> BodyCases => [.. s_body.Keys];

    public static TheoryData<string> ListLimitCases => [.. s_lists.Keys];

    public static TheoryData<string> NameLimitCases => [.. s_names.Keys];

    public static TheoryData<string> CredentialCases => [.. s_credentials.Keys];

    public static TheoryData<string> RuleCases => [.. s_rules.Keys];

    [Theory]
    [MemberData(nameof(ClientMsgIdCases))]
    public void Client_msg_id_holds_1_to_64_utf8_bytes(string @case) => s_clientMsgId[@case].Check();

    [Theory]
    [MemberData(nameof(BodyCases))]
    public void Message_body_holds_at_most_max_message_body_bytes(string @case) => s_body[@case].Check();

    [Theory]
    [MemberData(nameof(ListLimitCases))]
    public void List_field_holds_at_most_1000_items(string @case) => s_lists[@case].Check();

    [Theory]
    [MemberData(nameof(NameLimitCases))]
    public void Name_field_holds_at_most_256_utf8_bytes(string @case) => s_names[@case].Check();

    [Theory]
    [MemberData(nameof(CredentialCases))]
    public void Credential_field_holds_at_most_8192_utf8_bytes(string @case) => s_credentials[@case].Check();

    [Theory]
    [MemberData(nameof(RuleCases))]
    public void Required_field_and_enum_rules_give_invalid_argument_naming_the_field(string @case) => s_rules[@case].Check();

    [Fact]
    public void Field_errors_are_request_errors_that_keep_the_connection_open()
    {
        Assert.False(ErrorCodes.ClosesConnection(ErrorCode.InvalidArgument));
        Assert.False(ErrorCodes.ClosesConnection(ErrorCode.LimitExceeded));
    }

    private static Dictionary<string, LimitCase> ListCases()
    {
        var fields = new (string Name, string Field, Func<int, IMessage> Build)[]
        {
            ("Hello capabilities", "capabilities", n => new Hello { Capabilities = [.. Enumerable.Repeat("c", n)] }),
            ("Welcome capabilities", "capabilities", n => new Welcome { Capabilities = [.. Enumerable.Repeat("c", n)] }),
            ("CreateGroup members", "members", n => new CreateGroup { Members = [.. Enumerable.Repeat(7ul, n)] }),
            ("AddMembers user ids", "user_ids", n => new AddMembers { ConversationId = 42, UserIds = [.. Enumerable.Repeat(7ul, n)] }),
            ("RemoveMembers user ids", "user_ids", n => new RemoveMembers { ConversationId = 42, UserIds = [.. Enumerable.Repeat(7ul, n)] }),
            ("QueryPresence user ids", "user_ids", n => new QueryPresence { UserIds = [.. Enumerable.Repeat(7ul, n)] }),
            ("ResolveUsers user ids", "user_ids", n => new ResolveUsers { UserIds = [.. Enumerable.Repeat(7ul, n)] }),
            ("ResolveUsers user names", "user_names", n => new ResolveUsers { UserNames = [.. Enumerable.Repeat("bob", n)] }),
            ("Ack items", "items", n => new Ack { Items = [.. Enumerable.Range(0, n).Select(_ => new AckItem { ConversationId = 42, Seq = 7 })] }),
            ("SyncAll cursors", "cursors", n => new SyncAll { Cursors = [.. Enumerable.Range(0, n).Select(_ => new SyncCursor { ConversationId = 42 })] }),
        };
        var cases = new Dictionary<string, LimitCase>();
        foreach (var (name, field, build) in fields)
        {
            cases[$"{name}: 1000 are accepted"] = new(() => build(1000), ErrorCode.None, null);
            cases[$"{name}: 1001 are invalid"] = new(() => build(1001), ErrorCode.InvalidArgument, field);
        }

        var small = ProtocolLimits.Default with { MaxListItems = 2 };
        cases["a custom limit of 2 accepts 2"] = new(() => new QueryPresence { UserIds = [1, 2] }, ErrorCode.None, null, small);
        cases["a custom limit of 2 rejects 3"] = new(() => new QueryPresence { UserIds = [1, 2, 3] }, ErrorCode.InvalidArgument, "user_ids", small);
        return cases;
    }

    private static Dictionary<string, LimitCase> NameCases()
    {
        var fields = new (string Name, string Field, Func<string, IMessage> Build)[]
        {
            ("Hello client name", "client_name", s => new Hello { ClientName = s }),
            ("Hello client version", "client_version", s => new Hello { ClientVersion = s }),
            ("Hello capability", "capabilities", s => new Hello { Capabilities = ["typing", s] }),
            ("Welcome server name", "server_name", s => new Welcome { ServerName = s }),
            ("Welcome server version", "server_version", s => new Welcome { ServerVersion = s }),
            ("Welcome capability", "capabilities", s => new Welcome { Capabilities = [s] }),
            ("Auth user name", "user_name", s => new Auth { Token = "t", UserName = s }),
            ("Auth TOTP code", "totp_code", s => new Auth { Token = "t", TotpCode = s }),
            ("Auth device name", "device_name", s => new Auth { Token = "t", DeviceName = s }),
            ("AuthOk user name", "user_name", s => new AuthOk { UserName = s }),
            ("GoAway message", "message", s => new GoAway { Message = s }),
            ("Error message", "message", s => new Error { Message = s }),
            ("CreateGroup title", "title", s => new CreateGroup { Title = s }),
            ("ConversationInfo title", "title", s => new ConversationInfo { Title = s }),
            ("ConversationList item title", "items", s => new ConversationList { Items = [new ConversationInfo { Title = s }] }),
            ("ResolveUsers user name", "user_names", s => new ResolveUsers { UserNames = [s] }),
            ("UserList user name", "items", s => new UserList { Items = [new UserInfo { UserName = s }] }),
            ("UserList display name", "items", s => new UserList { Items = [new UserInfo { DisplayName = s }] }),
        };
        var cases = new Dictionary<string, LimitCase>();
        foreach (var (name, field, build) in fields)
        {
            cases[$"{name}: 128 two-byte chars (256 bytes) are accepted"] = new(() => build(Repeat(TwoByte, 128)), ErrorCode.None, null);
            cases[$"{name}: 128 two-byte chars and one ASCII byte (257 bytes) are invalid"] = new(() => build(Repeat(TwoByte, 128) + "a"), ErrorCode.InvalidArgument, field);
        }

        Func<string, IMessage> title = s => new CreateGroup { Title = s };
        cases["title of 256 ASCII bytes is accepted"] = new(() => title(Repeat("a", 256)), ErrorCode.None, null);
        cases["title of 257 ASCII bytes is invalid"] = new(() => title(Repeat("a", 257)), ErrorCode.InvalidArgument, "title");
        cases["title of 85 three-byte chars and one ASCII byte (256 bytes) is accepted"] = new(() => title(Repeat(ThreeByte, 85) + "a"), ErrorCode.None, null);
        cases["title of 85 three-byte chars and one two-byte char (257 bytes) is invalid"] = new(() => title(Repeat(ThreeByte, 85) + TwoByte), ErrorCode.InvalidArgument, "title");
        cases["title of 64 four-byte chars (256 bytes) is accepted"] = new(() => title(Repeat(FourByte, 64)), ErrorCode.None, null);
        cases["title of 64 four-byte chars and one ASCII byte (257 bytes) is invalid"] = new(() => title(Repeat(FourByte, 64) + "a"), ErrorCode.InvalidArgument, "title");
        cases["title of 86 ASCII chars (at most 258 bytes by the 3-bytes-per-char estimate, 86 in fact) is accepted"] = new(() => title(Repeat("a", 86)), ErrorCode.None, null);
        return cases;
    }

    private static LimitCase Send(string clientMsgId, ErrorCode error, string? field, ProtocolLimits? limits = null) =>
        new(() => new Send { ConversationId = 42, ClientMsgId = clientMsgId, Body = "hi"u8.ToArray() }, error, field, limits);

    private static LimitCase SendBody(int length, ErrorCode error, string? field, ProtocolLimits? limits = null) =>
        new(() => new Send { ConversationId = 42, ClientMsgId = "c-1", Body = new byte[length] }, error, field, limits);

    private static Auth Password(string password) => new() { Method = AuthMethod.Password, UserName = "alice", Password = password };

    private static string Repeat(string text, int count) => string.Concat(Enumerable.Repeat(text, count));

    /// <summary>A message encoded without validation, and what decoding it under <see cref="Limits"/> must report.</summary>
    private sealed record LimitCase(Func<IMessage> Build, ErrorCode Error, string? Field, ProtocolLimits? Limits = null)
    {
        public void Check()
        {
            var limits = Limits ?? ProtocolLimits.Default;
            var bytes = FrameWriter.ToArray(1, Build());

            var result = TestFrames.Decode(bytes, out var message, limits);

            Assert.Equal(new DecodeResult(Error, Field), result);
            Assert.Equal(Error == ErrorCode.None, message is not null);
        }
    }
}
