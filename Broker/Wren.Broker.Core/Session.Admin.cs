using Wren.Protocol;
using Wren.Protocol.Messages;
using Wren.Storage;

namespace Wren.Broker.Core;

/// <summary>Administrator operations: users, tokens, statistics. Only for server-wide administrators, from loopback by default.</summary>
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

                Reply(Frames.Encode(requestId, DescribeUser(user)));
                break;

            case AdminIssueToken issue:
                if (_core.Users.FindUser(issue.UserName) is not { } owner)
                {
                    ReplyError(requestId, ErrorCode.NotFound, "user not found");
                    return;
                }

                var issued = await _core.Authenticator.IssueAsync(owner, issue.DeviceName, issue.TtlSeconds == 0 ? null : TimeSpan.FromSeconds(issue.TtlSeconds)).ConfigureAwait(false);
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
        }
    }

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
