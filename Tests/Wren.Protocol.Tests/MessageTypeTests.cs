using System.Buffers;
using Wren.Protocol.Messages;

namespace Wren.Protocol.Tests;

/// <summary>The message type table of docs/protocol.md section 6: numbers, directions and empty bodies.</summary>
public class MessageTypeTests
{
    // type, name, direction as in the spec's summary table: C (client to server), S (server to client), B (both).
    private static readonly (byte Number, string Name, char Direction)[] s_table =
    [
        (0x01, "Hello", 'C'), (0x02, "Welcome", 'S'), (0x03, "Auth", 'C'), (0x04, "AuthOk", 'S'), (0x05, "Ping", 'B'),
        (0x06, "Pong", 'B'), (0x07, "GoAway", 'S'), (0x08, "Error", 'S'), (0x09, "Ok", 'S'),
        (0x10, "Send", 'C'), (0x11, "SendAck", 'S'), (0x12, "Deliver", 'S'), (0x13, "Ack", 'C'),
        (0x20, "SyncConversation", 'C'), (0x21, "SyncAll", 'C'), (0x22, "SyncDone", 'S'), (0x23, "History", 'C'), (0x24, "HistoryPage", 'S'),
        (0x30, "CreateGroup", 'C'), (0x31, "ConversationInfo", 'S'), (0x32, "OpenDirect", 'C'), (0x33, "AddMembers", 'C'),
        (0x34, "RemoveMembers", 'C'), (0x35, "ListMembers", 'C'), (0x36, "MemberList", 'S'), (0x37, "ListConversations", 'C'),
        (0x38, "ConversationList", 'S'),
        (0x39, "SetRole", 'C'), (0x3A, "UpdateGroup", 'C'), (0x3B, "LeaveGroup", 'C'), (0x3C, "GroupSettings", 'S'), (0x3D, "GetGroupSettings", 'C'),
        (0x40, "MarkRead", 'C'), (0x41, "ReadReceipt", 'S'), (0x42, "Typing", 'B'), (0x43, "Presence", 'S'), (0x44, "QueryPresence", 'C'),
        (0x45, "PresenceList", 'S'), (0x46, "ResolveUsers", 'C'), (0x47, "UserList", 'S'),
        (0x50, "Recall", 'C'), (0x51, "Edit", 'C'), (0x52, "Delete", 'C'), (0x53, "DeleteForMe", 'C'), (0x54, "ListHidden", 'C'),
        (0x55, "HiddenList", 'S'),
        (0x80, "AdminCreateUser", 'C'), (0x81, "AdminIssueToken", 'C'), (0x82, "AdminListUsers", 'C'), (0x83, "AdminSetDisabled", 'C'),
        (0x84, "AdminStats", 'C'), (0x85, "AdminInspectLog", 'C'), (0x86, "AdminListTokens", 'C'), (0x87, "AdminRevokeToken", 'C'),
        (0x88, "AdminListUserConversations", 'C'), (0x89, "AdminSetRole", 'C'), (0x8A, "AdminCheckpoint", 'C'),
        (0x8B, "AdminAuditQuery", 'C'), (0x8C, "AdminTlsReload", 'C'), (0x8D, "AdminRotateKey", 'C'), (0x8E, "AdminKeyStatus", 'C'),
        (0x90, "AdminUser", 'S'), (0x91, "AdminToken", 'S'), (0x92, "AdminUserList", 'S'), (0x93, "AdminStatsResult", 'S'),
        (0x94, "AdminLogPage", 'S'), (0x95, "AdminTokenList", 'S'),
        (0x96, "AdminAuditPage", 'S'), (0x97, "AdminCertificate", 'S'), (0x98, "AdminKeyRing", 'S'),
        (0xA0, "Logout", 'C'), (0xA1, "ChangePassword", 'C'), (0xA2, "TotpEnroll", 'C'), (0xA3, "TotpConfirm", 'C'), (0xA4, "TotpDisable", 'C'),
        (0xA5, "AdminSetPassword", 'C'), (0xA6, "RefreshSession", 'C'), (0xA8, "TotpEnrollment", 'S'), (0xA9, "TokenPair", 'S'),
    ];

    [Fact]
    public void Types_keep_the_numbers_of_the_spec()
    {
        Assert.Equal(s_table.Select(t => (t.Number, t.Name)), Enum.GetValues<MessageType>().Select(t => ((byte)t, t.ToString())));
    }

    [Fact]
    public void Directions_match_the_spec()
    {
        foreach (var (number, name, direction) in s_table)
        {
            var type = (MessageType)number;
            Assert.True(MessageTypes.IsClientToServer(type) == direction is 'C' or 'B', $"{name} client to server");
            Assert.True(MessageTypes.IsServerToClient(type) == direction is 'S' or 'B', $"{name} server to client");
        }
    }

    [Fact]
    public void Only_ping_pong_and_ok_have_empty_bodies()
    {
        Assert.Equal(
            [MessageType.Ping, MessageType.Pong, MessageType.Ok],
            Enum.GetValues<MessageType>().Where(MessageTypes.HasEmptyBody));
    }

    [Fact]
    public void Every_byte_not_in_the_table_is_unknown_and_unsupported()
    {
        var known = s_table.Select(t => t.Number).ToHashSet();
        for (int type = 0; type <= byte.MaxValue; type++)
        {
            Assert.Equal(known.Contains((byte)type), MessageTypes.IsKnown((byte)type));
            if (!known.Contains((byte)type))
            {
                Assert.Equal(ErrorCode.UnsupportedOperation, MessageCodec.TryDecode((byte)type, default, ProtocolLimits.Default, out _).Error);
            }
        }
    }

    [Fact]
    public void Header_constants_match_the_frame_layout()
    {
        Assert.Equal(4, FrameHeader.LengthFieldSize);
        Assert.Equal(10, FrameHeader.Size);
        Assert.Equal(6u, FrameHeader.MinLength);
    }

    [Fact]
    public void Decode_of_the_wrong_contract_throws_a_protocol_error()
    {
        var bytes = GoldenVectors.For(MessageType.Send).Bytes;
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        FrameReader.TryRead(ref reader, TestFrames.DefaultMax, out var frame, out _);

        var send = MessageCodec.Decode<Send>(frame, ProtocolLimits.Default);
        var wrong = Assert.Throws<ProtocolException>(() => MessageCodec.Decode<Deliver>(frame, ProtocolLimits.Default));

        Assert.Equal("c-1", send.ClientMsgId);
        Assert.Equal(ErrorCode.ProtocolError, wrong.Code);
    }
}
