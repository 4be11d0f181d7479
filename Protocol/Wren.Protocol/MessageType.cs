namespace Wren.Protocol;

/// <summary>
/// The type byte of a frame. Ranges group concerns and leave room for later versions
/// (see docs/protocol.md, "Message types").
/// </summary>
public enum MessageType : byte
{
    // 0x01–0x0F: session.

    /// <summary>Client → server: first frame, offers a range of protocol versions.</summary>
    Hello = 0x01,
    /// <summary>Server → client: answer to Hello with the chosen version and the server's limits.</summary>
    Welcome = 0x02,
    /// <summary>Client → server: credentials.</summary>
    Auth = 0x03,
    /// <summary>Server → client: authentication succeeded.</summary>
    AuthOk = 0x04,
    /// <summary>Either direction: keep-alive probe; the peer answers Pong with the same request id.</summary>
    Ping = 0x05,
    /// <summary>Either direction: answer to Ping.</summary>
    Pong = 0x06,
    /// <summary>Server → client: the server is going away; reconnect after the given delay.</summary>
    GoAway = 0x07,
    /// <summary>Server → client: a request failed, or the connection is about to close.</summary>
    Error = 0x08,
    /// <summary>Server → client: a request succeeded and has nothing else to return.</summary>
    Ok = 0x09,

    // 0x10–0x1F: messages.

    /// <summary>Client → server: append a message to a conversation.</summary>
    Send = 0x10,
    /// <summary>Server → client: the message is durable, with its seq.</summary>
    SendAck = 0x11,
    /// <summary>Server → client: one log entry of a conversation (live push, sync stream or history).</summary>
    Deliver = 0x12,
    /// <summary>Client → server: the device has processed deliveries up to a seq per conversation.</summary>
    Ack = 0x13,

    // 0x20–0x2F: sync and history.

    /// <summary>Client → server: stream one conversation's entries after a seq.</summary>
    SyncConversation = 0x20,
    /// <summary>Client → server: stream everything the device is missing across all its conversations.</summary>
    SyncAll = 0x21,
    /// <summary>Server → client: end of a sync stream, with each conversation's state.</summary>
    SyncDone = 0x22,
    /// <summary>Client → server: one page of history before a seq.</summary>
    History = 0x23,
    /// <summary>Server → client: a page of history.</summary>
    HistoryPage = 0x24,

    // 0x30–0x3F: conversations and members (0x39–0x3F reserved for roles and settings).

    /// <summary>Client → server: create a group conversation.</summary>
    CreateGroup = 0x30,
    /// <summary>Server → client: one conversation's description.</summary>
    ConversationInfo = 0x31,
    /// <summary>Client → server: find or create the direct conversation with a user.</summary>
    OpenDirect = 0x32,
    /// <summary>Client → server: add members to a group.</summary>
    AddMembers = 0x33,
    /// <summary>Client → server: remove members from a group.</summary>
    RemoveMembers = 0x34,
    /// <summary>Client → server: list a conversation's members.</summary>
    ListMembers = 0x35,
    /// <summary>Server → client: a page of members.</summary>
    MemberList = 0x36,
    /// <summary>Client → server: list the caller's conversations.</summary>
    ListConversations = 0x37,
    /// <summary>Server → client: a page of conversations.</summary>
    ConversationList = 0x38,

    // 0x40–0x4F: receipts, typing, presence, users.

    /// <summary>Client → server: move the caller's read cursor in a conversation.</summary>
    MarkRead = 0x40,
    /// <summary>Server → client: a member (or another device of the caller) read up to a seq.</summary>
    ReadReceipt = 0x41,
    /// <summary>Both directions: a member started or stopped typing.</summary>
    Typing = 0x42,
    /// <summary>Server → client: a user's presence changed.</summary>
    Presence = 0x43,
    /// <summary>Client → server: current presence of some users.</summary>
    QueryPresence = 0x44,
    /// <summary>Server → client: answer to QueryPresence.</summary>
    PresenceList = 0x45,
    /// <summary>Client → server: look users up by id or name.</summary>
    ResolveUsers = 0x46,
    /// <summary>Server → client: answer to ResolveUsers.</summary>
    UserList = 0x47,

    // 0x50–0x5F: recall, edit, delete (reserved).
    // 0x60–0x6F: files (reserved).
    // 0x70–0x7F: call signalling (reserved).
    // 0x80–0x9F: administration: requests 0x80–0x8F, answers 0x90–0x9F.

    /// <summary>Client → server (administrators): create a user.</summary>
    AdminCreateUser = 0x80,
    /// <summary>Client → server (administrators): issue a device token.</summary>
    AdminIssueToken = 0x81,
    /// <summary>Client → server (administrators): list users.</summary>
    AdminListUsers = 0x82,
    /// <summary>Client → server (administrators): disable or enable a user.</summary>
    AdminSetDisabled = 0x83,
    /// <summary>Client → server (administrators): server statistics.</summary>
    AdminStats = 0x84,
    /// <summary>Client → server (administrators): read any conversation's log.</summary>
    AdminInspectLog = 0x85,
    /// <summary>Client → server (administrators): list a user's tokens.</summary>
    AdminListTokens = 0x86,
    /// <summary>Client → server (administrators): revoke one token.</summary>
    AdminRevokeToken = 0x87,
    /// <summary>Client → server (administrators): list a user's conversations.</summary>
    AdminListUserConversations = 0x88,
    /// <summary>Client → server (administrators): set a member's role in a group.</summary>
    AdminSetRole = 0x89,
    /// <summary>Client → server (administrators): write a checkpoint of the store.</summary>
    AdminCheckpoint = 0x8A,
    /// <summary>Server → client: a user.</summary>
    AdminUser = 0x90,
    /// <summary>Server → client: an issued token.</summary>
    AdminToken = 0x91,
    /// <summary>Server → client: a page of users.</summary>
    AdminUserList = 0x92,
    /// <summary>Server → client: statistics.</summary>
    AdminStatsResult = 0x93,
    /// <summary>Server → client: a page of a conversation's log.</summary>
    AdminLogPage = 0x94,
    /// <summary>Server → client: a user's tokens.</summary>
    AdminTokenList = 0x95,
    // 0xA0–0xEF: reserved for later versions.
    // 0xF0–0xFF: private extensions, never assigned by the protocol.
}

/// <summary>Properties of <see cref="MessageType"/> values.</summary>
public static class MessageTypes
{
    /// <summary>True when this protocol version defines the type.</summary>
    public static bool IsKnown(byte type) => Enum.IsDefined((MessageType)type);

    /// <summary>True for types whose body is always empty (no MessagePack value at all).</summary>
    public static bool HasEmptyBody(MessageType type) => type is MessageType.Ping or MessageType.Pong or MessageType.Ok;

    /// <summary>True for the types a client may send.</summary>
    public static bool IsClientToServer(MessageType type) => type switch
    {
        MessageType.Hello or MessageType.Auth or MessageType.Ping or MessageType.Pong
            or MessageType.Send or MessageType.Ack
            or MessageType.SyncConversation or MessageType.SyncAll or MessageType.History
            or MessageType.CreateGroup or MessageType.OpenDirect or MessageType.AddMembers or MessageType.RemoveMembers
            or MessageType.ListMembers or MessageType.ListConversations
            or MessageType.MarkRead or MessageType.Typing or MessageType.QueryPresence or MessageType.ResolveUsers
            or MessageType.AdminCreateUser or MessageType.AdminIssueToken or MessageType.AdminListUsers
            or MessageType.AdminSetDisabled or MessageType.AdminStats or MessageType.AdminInspectLog or MessageType.AdminListTokens
            or MessageType.AdminRevokeToken or MessageType.AdminListUserConversations or MessageType.AdminSetRole
            or MessageType.AdminCheckpoint => true,
        _ => false,
    };

    /// <summary>True for the types a server may send.</summary>
    public static bool IsServerToClient(MessageType type) => type switch
    {
        MessageType.Welcome or MessageType.AuthOk or MessageType.Ping or MessageType.Pong or MessageType.GoAway
            or MessageType.Error or MessageType.Ok
            or MessageType.SendAck or MessageType.Deliver or MessageType.SyncDone or MessageType.HistoryPage
            or MessageType.ConversationInfo or MessageType.MemberList or MessageType.ConversationList
            or MessageType.ReadReceipt or MessageType.Typing or MessageType.Presence or MessageType.PresenceList
            or MessageType.UserList
            or MessageType.AdminUser or MessageType.AdminToken or MessageType.AdminUserList or MessageType.AdminStatsResult
            or MessageType.AdminLogPage or MessageType.AdminTokenList => true,
        _ => false,
    };
}
