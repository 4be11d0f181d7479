using System.Buffers;
using System.Runtime.CompilerServices;
using MessagePack;
using MessagePack.Resolvers;
using Wren.Protocol.Messages;

namespace Wren.Protocol;

/// <summary>Outcome of <see cref="MessageCodec.TryDecode(in Frame, ProtocolLimits, out IMessage?)"/>.</summary>
/// <param name="Error"><see cref="ErrorCode.None"/> on success; otherwise the code to report.</param>
/// <param name="Field">For field violations, the offending field's name.</param>
public readonly record struct DecodeResult(ErrorCode Error, string? Field = null)
{
    /// <summary>True when the body decoded and every field is within limits.</summary>
    public bool IsSuccess => Error == ErrorCode.None;
}

/// <summary>
/// Turns frame bodies into message contracts and back. Bodies are untrusted: structure is checked without recursion
/// before deserializing, MessagePack runs with <see cref="MessagePackSecurity.UntrustedData"/>, and every field is
/// checked against <see cref="ProtocolLimits"/> after.
/// </summary>
public static class MessageCodec
{
    private delegate IMessage BodyDecoder(ReadOnlySequence<byte> body, MessagePackSerializerOptions options);

    private static readonly BodyDecoder?[] s_decoders = BuildDecoders();

    private static readonly ConditionalWeakTable<ProtocolLimits, MessagePackSerializerOptions> s_readOptions = new();

    /// <summary>Options used to encode bodies.</summary>
    public static MessagePackSerializerOptions WriteOptions { get; } = MessagePackSerializerOptions.Standard
        .WithResolver(StandardResolver.Instance)
        .WithSecurity(MessagePackSecurity.UntrustedData);

    /// <summary>Options used to decode untrusted bodies under <paramref name="limits"/>.</summary>
    public static MessagePackSerializerOptions ReadOptions(ProtocolLimits limits) =>
        s_readOptions.GetValue(limits, static l => MessagePackSerializerOptions.Standard
            .WithResolver(StandardResolver.Instance)
            .WithSecurity(MessagePackSecurity.UntrustedData.WithMaximumObjectGraphDepth(l.MaxBodyDepth + 1)));

    /// <summary>
    /// Decodes a frame's body into the contract for its type.
    /// </summary>
    /// <returns>
    /// Success; or <see cref="ErrorCode.UnsupportedOperation"/> for a type this version does not define;
    /// <see cref="ErrorCode.MalformedBody"/> when the body is not exactly one valid value for the type (or a body is present
    /// on an empty-body type); <see cref="ErrorCode.InvalidArgument"/> or <see cref="ErrorCode.LimitExceeded"/> with the field
    /// name when a field breaks a limit.
    /// </returns>
    /// <remarks>Never throws for any input.</remarks>
    public static DecodeResult TryDecode(in Frame frame, ProtocolLimits limits, out IMessage? message) =>
        TryDecode(frame.Header.Type, frame.Body, limits, out message);

    /// <inheritdoc cref="TryDecode(in Frame, ProtocolLimits, out IMessage?)"/>
    public static DecodeResult TryDecode(byte type, ReadOnlySequence<byte> body, ProtocolLimits limits, out IMessage? message)
    {
        message = null;
        if (!MessageTypes.IsKnown(type))
        {
            return new DecodeResult(ErrorCode.UnsupportedOperation);
        }

        var messageType = (MessageType)type;
        if (MessageTypes.HasEmptyBody(messageType))
        {
            if (!body.IsEmpty)
            {
                return new DecodeResult(ErrorCode.MalformedBody);
            }

            message = EmptyMessage.For(messageType);
            return default;
        }

        if (!MessagePackStructure.IsValid(body, limits.MaxBodyDepth, limits.MaxBodyElements))
        {
            return new DecodeResult(ErrorCode.MalformedBody);
        }

        try
        {
            message = s_decoders[type]!(body, ReadOptions(limits));
        }
        catch (MessagePackSerializationException)
        {
            // Well-formed MessagePack of the wrong shape (a string where a number belongs, a nil array item).
            return new DecodeResult(ErrorCode.MalformedBody);
        }

        if (message is null)
        {
            return new DecodeResult(ErrorCode.MalformedBody);
        }

        var violation = message.Validate(limits);
        if (!violation.IsNone)
        {
            message = null;
            return new DecodeResult(violation.Code, violation.Field);
        }

        return default;
    }

    /// <summary>Decodes a body as <typeparamref name="T"/>; throws <see cref="ProtocolException"/> when it cannot.</summary>
    /// <remarks>For clients and tests; the server uses <see cref="TryDecode(in Frame, ProtocolLimits, out IMessage?)"/>.</remarks>
    public static T Decode<T>(in Frame frame, ProtocolLimits limits)
        where T : IMessage
    {
        var result = TryDecode(frame, limits, out var message);
        if (!result.IsSuccess)
        {
            ProtocolException.Throw(result.Error, result.Field);
        }

        return message is T typed ? typed : throw new ProtocolException(ErrorCode.ProtocolError, $"expected {typeof(T).Name}, got {frame.Header.MessageType}");
    }

    private static BodyDecoder?[] BuildDecoders()
    {
        var decoders = new BodyDecoder?[256];
        void Add<T>(MessageType type)
            where T : IMessage => decoders[(byte)type] = static (body, options) => MessagePackSerializer.Deserialize<T>(body, options);

        Add<Hello>(MessageType.Hello);
        Add<Welcome>(MessageType.Welcome);
        Add<Auth>(MessageType.Auth);
        Add<AuthOk>(MessageType.AuthOk);
        Add<GoAway>(MessageType.GoAway);
        Add<Error>(MessageType.Error);
        Add<Send>(MessageType.Send);
        Add<SendAck>(MessageType.SendAck);
        Add<Deliver>(MessageType.Deliver);
        Add<Ack>(MessageType.Ack);
        Add<SyncConversation>(MessageType.SyncConversation);
        Add<SyncAll>(MessageType.SyncAll);
        Add<SyncDone>(MessageType.SyncDone);
        Add<History>(MessageType.History);
        Add<HistoryPage>(MessageType.HistoryPage);
        Add<CreateGroup>(MessageType.CreateGroup);
        Add<ConversationInfo>(MessageType.ConversationInfo);
        Add<OpenDirect>(MessageType.OpenDirect);
        Add<AddMembers>(MessageType.AddMembers);
        Add<RemoveMembers>(MessageType.RemoveMembers);
        Add<ListMembers>(MessageType.ListMembers);
        Add<MemberList>(MessageType.MemberList);
        Add<ListConversations>(MessageType.ListConversations);
        Add<ConversationList>(MessageType.ConversationList);
        Add<SetRole>(MessageType.SetRole);
        Add<UpdateGroup>(MessageType.UpdateGroup);
        Add<LeaveGroup>(MessageType.LeaveGroup);
        Add<GroupSettings>(MessageType.GroupSettings);
        Add<GetGroupSettings>(MessageType.GetGroupSettings);
        Add<Recall>(MessageType.Recall);
        Add<Edit>(MessageType.Edit);
        Add<Delete>(MessageType.Delete);
        Add<DeleteForMe>(MessageType.DeleteForMe);
        Add<ListHidden>(MessageType.ListHidden);
        Add<HiddenList>(MessageType.HiddenList);
        Add<MarkRead>(MessageType.MarkRead);
        Add<ReadReceipt>(MessageType.ReadReceipt);
        Add<Typing>(MessageType.Typing);
        Add<Presence>(MessageType.Presence);
        Add<QueryPresence>(MessageType.QueryPresence);
        Add<PresenceList>(MessageType.PresenceList);
        Add<ResolveUsers>(MessageType.ResolveUsers);
        Add<UserList>(MessageType.UserList);
        Add<AdminCreateUser>(MessageType.AdminCreateUser);
        Add<AdminUser>(MessageType.AdminUser);
        Add<AdminIssueToken>(MessageType.AdminIssueToken);
        Add<AdminToken>(MessageType.AdminToken);
        Add<AdminListUsers>(MessageType.AdminListUsers);
        Add<AdminUserList>(MessageType.AdminUserList);
        Add<AdminSetDisabled>(MessageType.AdminSetDisabled);
        Add<AdminStats>(MessageType.AdminStats);
        Add<AdminStatsResult>(MessageType.AdminStatsResult);
        Add<AdminInspectLog>(MessageType.AdminInspectLog);
        Add<AdminLogPage>(MessageType.AdminLogPage);
        Add<AdminListTokens>(MessageType.AdminListTokens);
        Add<AdminTokenList>(MessageType.AdminTokenList);
        Add<AdminRevokeToken>(MessageType.AdminRevokeToken);
        Add<AdminListUserConversations>(MessageType.AdminListUserConversations);
        Add<AdminSetRole>(MessageType.AdminSetRole);
        Add<AdminCheckpoint>(MessageType.AdminCheckpoint);
        Add<AdminAuditQuery>(MessageType.AdminAuditQuery);
        Add<AdminAuditPage>(MessageType.AdminAuditPage);
        Add<AdminTlsReload>(MessageType.AdminTlsReload);
        Add<AdminCertificate>(MessageType.AdminCertificate);
        Add<AdminRotateKey>(MessageType.AdminRotateKey);
        Add<AdminKeyStatus>(MessageType.AdminKeyStatus);
        Add<AdminKeyRing>(MessageType.AdminKeyRing);
        Add<Logout>(MessageType.Logout);
        Add<ChangePassword>(MessageType.ChangePassword);
        Add<TotpEnroll>(MessageType.TotpEnroll);
        Add<TotpConfirm>(MessageType.TotpConfirm);
        Add<TotpDisable>(MessageType.TotpDisable);
        Add<AdminSetPassword>(MessageType.AdminSetPassword);
        Add<RefreshSession>(MessageType.RefreshSession);
        Add<TotpEnrollment>(MessageType.TotpEnrollment);
        Add<TokenPair>(MessageType.TokenPair);
        return decoders;
    }
}
