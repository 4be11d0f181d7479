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
    /// <summary>Client → server: set a member's role in a group (group owners and admins).</summary>
    SetRole = 0x39,
    /// <summary>Client → server: change a group's settings (title, read-only mode).</summary>
    UpdateGroup = 0x3A,
    /// <summary>Client → server: leave a group.</summary>
    LeaveGroup = 0x3B,
    /// <summary>Server → client: a group's settings.</summary>
    GroupSettings = 0x3C,
    /// <summary>Client → server: read a group's settings.</summary>
    GetGroupSettings = 0x3D,

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

    // 0x50–0x5F: recall, edit, delete.

    /// <summary>Client → server: recall a message (appends a Recall entry).</summary>
    Recall = 0x50,
    /// <summary>Client → server: edit the caller's own message (appends an Edit entry).</summary>
    Edit = 0x51,
    /// <summary>Client → server: delete a message as a group moderator (appends a Delete entry).</summary>
    Delete = 0x52,
    /// <summary>Client → server: hide messages from the caller's own view on all their devices.</summary>
    DeleteForMe = 0x53,
    /// <summary>Client → server: the seqs the caller has hidden in a conversation.</summary>
    ListHidden = 0x54,
    /// <summary>Server → client: hidden seqs (answer to ListHidden, or a push after DeleteForMe).</summary>
    HiddenList = 0x55,

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
    /// <summary>Client → server (administrators): read the audit log.</summary>
    AdminAuditQuery = 0x8B,
    /// <summary>Client → server (administrators): reload the TLS certificate.</summary>
    AdminTlsReload = 0x8C,
    /// <summary>Client → server (administrators): rotate the at-rest data key.</summary>
    AdminRotateKey = 0x8D,
    /// <summary>Client → server (administrators): the at-rest key ring.</summary>
    AdminKeyStatus = 0x8E,
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
    /// <summary>Server → client: a page of the audit log.</summary>
    AdminAuditPage = 0x96,
    /// <summary>Server → client: the TLS certificate in force.</summary>
    AdminCertificate = 0x97,
    /// <summary>Server → client: the at-rest key ring.</summary>
    AdminKeyRing = 0x98,

    // 0xA0–0xAF: account and security: requests 0xA0–0xA7, answers 0xA8–0xAF.

    /// <summary>Client → server: revoke this device's tokens and end its sessions.</summary>
    Logout = 0xA0,
    /// <summary>Client → server: change the caller's password.</summary>
    ChangePassword = 0xA1,
    /// <summary>Client → server: start TOTP enrollment.</summary>
    TotpEnroll = 0xA2,
    /// <summary>Client → server: confirm TOTP enrollment with a code.</summary>
    TotpConfirm = 0xA3,
    /// <summary>Client → server: turn TOTP MFA off with a code.</summary>
    TotpDisable = 0xA4,
    /// <summary>Client → server (administrators): set a user's password or turn the user's MFA off.</summary>
    AdminSetPassword = 0xA5,
    /// <summary>Client → server: exchange a refresh token for a new token pair.</summary>
    RefreshSession = 0xA6,
    /// <summary>Server → client: a TOTP enrollment's secret.</summary>
    TotpEnrollment = 0xA8,
    /// <summary>Server → client: a new access and refresh token.</summary>
    TokenPair = 0xA9,
    // 0xB0–0xEF: reserved for later versions.
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
            or MessageType.SetRole or MessageType.UpdateGroup or MessageType.LeaveGroup or MessageType.GetGroupSettings
            or MessageType.Recall or MessageType.Edit or MessageType.Delete or MessageType.DeleteForMe or MessageType.ListHidden
            or MessageType.MarkRead or MessageType.Typing or MessageType.QueryPresence or MessageType.ResolveUsers
            or MessageType.AdminCreateUser or MessageType.AdminIssueToken or MessageType.AdminListUsers
            or MessageType.AdminSetDisabled or MessageType.AdminStats or MessageType.AdminInspectLog or MessageType.AdminListTokens
            or MessageType.AdminRevokeToken or MessageType.AdminListUserConversations or MessageType.AdminSetRole
            or MessageType.AdminCheckpoint
            or MessageType.AdminAuditQuery or MessageType.AdminTlsReload or MessageType.AdminRotateKey or MessageType.AdminKeyStatus
            or MessageType.Logout or MessageType.ChangePassword or MessageType.TotpEnroll or MessageType.TotpConfirm
            or MessageType.TotpDisable or MessageType.AdminSetPassword or MessageType.RefreshSession => true,
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
            or MessageType.UserList or MessageType.GroupSettings or MessageType.HiddenList
            or MessageType.AdminUser or MessageType.AdminToken or MessageType.AdminUserList or MessageType.AdminStatsResult
            or MessageType.AdminLogPage or MessageType.AdminTokenList
            or MessageType.AdminAuditPage or MessageType.AdminCertificate or MessageType.AdminKeyRing
            or MessageType.TotpEnrollment or MessageType.TokenPair => true,
        _ => false,
    };
}
