using System.Text;
using Wren.Protocol;
using Wren.Protocol.Messages;

namespace Wren.Broker.Tests;

/// <summary>
/// Invariant 11 (authorization): every conversation operation × every kind of caller, over the wire, against the
/// permission table of docs/security.md. The expected table below is written from the documentation, not derived from
/// Permissions.cs, so a change to the code that the table does not show fails here.
/// </summary>
public sealed class AuthorizationMatrixTests
{
    private const ulong MissingConversation = 999_999;

    /// <summary>Kinds of caller with a session. Anonymous, disabled and revoked callers never get one (own tests below).</summary>
    public enum Who
    {
        NonMember,
        Removed,
        ServerAdmin,
        Muted,
        Member,
        Admin,
        Owner,
    }

    public enum Op
    {
        Send,
        History,
        SyncConversation,
        ListMembers,
        MarkRead,
        Typing,
        GetGroupSettings,
        ListHidden,
        DeleteForMe,
        AddMembers,
        RemoveMembers,
        SetRole,
        UpdateGroup,
        RecallOwn,
        RecallOthers,
        EditOwn,
        EditOthers,
        Delete,
        Leave,
    }

    private enum Outcome
    {
        Ok,
        NotFound,
        Forbidden,
    }

    private const Outcome Y = Outcome.Ok;
    private const Outcome N = Outcome.NotFound;
    private const Outcome F = Outcome.Forbidden;

    // The table of docs/security.md "Permissions". Columns: non-member, removed member, server admin (not a member),
    // muted, member, admin, owner. Leave is run last, in this column order, so the owner is then the last owner.
    private static readonly Dictionary<Op, Outcome[]> s_expected = new()
    {
        [Op.Send] = [N, N, N, F, Y, Y, Y],
        [Op.History] = [N, N, N, Y, Y, Y, Y],
        [Op.SyncConversation] = [N, N, N, Y, Y, Y, Y],
        [Op.ListMembers] = [N, N, N, Y, Y, Y, Y],
        [Op.MarkRead] = [N, N, N, Y, Y, Y, Y],
        [Op.Typing] = [N, N, N, F, Y, Y, Y],
        [Op.GetGroupSettings] = [N, N, N, Y, Y, Y, Y],
        [Op.ListHidden] = [N, N, N, Y, Y, Y, Y],
        [Op.DeleteForMe] = [N, N, N, Y, Y, Y, Y],
        [Op.AddMembers] = [N, N, N, F, F, Y, Y],
        [Op.RemoveMembers] = [N, N, N, F, F, Y, Y],
        [Op.SetRole] = [N, N, N, F, F, Y, Y],
        [Op.UpdateGroup] = [N, N, N, F, F, Y, Y],
        [Op.RecallOwn] = [N, N, N, Y, Y, Y, Y],
        [Op.RecallOthers] = [N, N, N, F, F, Y, Y],
        [Op.EditOwn] = [N, N, N, F, Y, Y, Y],
        [Op.EditOthers] = [N, N, N, F, F, F, F],
        [Op.Delete] = [N, N, N, F, F, Y, Y],
        [Op.Leave] = [N, N, N, Y, Y, Y, F],
    };

    [Fact]
    public async Task Every_operation_is_allowed_exactly_where_the_table_says_and_hidden_denials_equal_NotFound()
    {
        await using var world = await World.CreateAsync();
        var failures = new List<string>();
        foreach (var op in Enum.GetValues<Op>())
        {
            foreach (var who in Enum.GetValues<Who>())
            {
                var expected = s_expected[op][(int)who];
                var message = await world.PrepareAsync(op, who, world.Group);
                var answer = await world.AskAsync(who, message);
                var actual = Classify(answer);
                if (actual != expected)
                {
                    failures.Add($"{op} by {who}: expected {expected}, got {answer}");
                    continue;
                }

                if (expected == Outcome.NotFound)
                {
                    // The same request on a conversation that does not exist must be answered identically.
                    var missing = await world.PrepareAsync(op, who, MissingConversation);
                    var reference = await world.AskAsync(who, missing);
                    var a = (Error)answer.Message!;
                    if (reference.Message is not Error b || (a.Code, a.Message, a.RetryAfterMs) != (b.Code, b.Message, b.RetryAfterMs))
                    {
                        failures.Add($"{op} by {who}: NotFound {answer} differs from the missing conversation's {reference}");
                    }
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task Anonymous_caller_gets_NotAuthenticated_and_the_connection_closes_for_every_operation()
    {
        await using var broker = await TestBroker.StartAsync();
        var owner = await broker.CreateUserAsync("owner");
        ulong group;
        await using (var client = await broker.ConnectAsync(owner.Token))
        {
            group = (await client.CreateGroupAsync("team", [])).ConversationId;
            await client.SendAsync(group, new byte[] { 1 });
        }

        foreach (var op in Enum.GetValues<Op>())
        {
            await using var anonymous = await RawConnection.ConnectAsync(broker);
            await anonymous.HelloAsync();

            await anonymous.SendAsync(FrameWriter.ToArray(anonymous.NextRequestId(), World.Unprepared(op, group, owner.User.UserId)));

            await anonymous.ExpectErrorThenCloseAsync(ErrorCode.NotAuthenticated);
        }
    }

    [Fact]
    public async Task Disabled_user_and_revoked_token_are_refused_at_Auth_and_the_connection_closes()
    {
        await using var broker = await TestBroker.StartAsync();
        var root = await broker.Server.CreateUserAsync("root", "console", isAdmin: true);
        var disabled = await broker.CreateUserAsync("dora");
        var revoked = await broker.CreateUserAsync("rita");
        await using (var admin = await broker.ConnectAsync(root.Token))
        {
            await admin.AdminSetDisabledAsync(disabled.User.UserId, disabled: true);
            var token = Assert.Single((await admin.AdminListTokensAsync("rita")).Items);
            await admin.AdminRevokeTokenAsync("rita", token.TokenId);
        }

        foreach (var token in new[] { disabled.Token, revoked.Token })
        {
            await using var connection = await RawConnection.ConnectAsync(broker);
            await connection.HelloAsync();
            await connection.SendAsync(connection.NextRequestId(), new Auth { Method = AuthMethod.Token, Token = token });
            await connection.ExpectErrorThenCloseAsync(ErrorCode.AuthFailed);
        }
    }

    [Fact]
    public async Task Read_only_group_lets_only_admins_and_owners_send()
    {
        await using var world = await World.CreateAsync();
        var settings = await world.Connection(Who.Owner).AskAsync(new UpdateGroup { ConversationId = world.Group, ReadOnly = true });
        Assert.True(settings.Message is GroupSettings { ReadOnly: true }, $"UpdateGroup answered {settings}");

        var expected = new Dictionary<Who, Outcome> { [Who.Muted] = F, [Who.Member] = F, [Who.Admin] = Y, [Who.Owner] = Y };
        foreach (var (who, outcome) in expected)
        {
            var send = await world.PrepareAsync(Op.Send, who, world.Group);
            var answer = await world.AskAsync(who, send);
            Assert.True(Classify(answer) == outcome, $"{who} in a read-only group: expected {outcome}, got {answer}");
        }

        var reading = await world.AskAsync(Who.Member, new History { ConversationId = world.Group, Limit = 5 });
        Assert.IsType<HistoryPage>(reading.Message);
    }

    /// <summary>
    /// Every user with a session tries every operation on every conversation id from 1 to the highest plus 5 and on every
    /// seq that exists in conversations that are not theirs: none succeeds.
    /// </summary>
    [Fact]
    public async Task Id_sweep_over_other_conversations_and_seqs_has_no_success()
    {
        await using var world = await World.CreateAsync();

        // A second group and a direct conversation the outsiders are not in, with messages.
        var owner = world.Connection(Who.Owner);
        var other = (ConversationInfo)(await owner.AskAsync(new CreateGroup { Title = "private", Members = [world.UserId(Who.Member)] })).Message!;
        var direct = (ConversationInfo)(await owner.AskAsync(new OpenDirect { PeerUserId = world.UserId(Who.Admin) })).Message!;
        foreach (var conversation in new[] { other.ConversationId, direct.ConversationId })
        {
            for (int i = 0; i < 3; i++)
            {
                await owner.AskAsync(new Send { ConversationId = conversation, ClientMsgId = $"sweep-{conversation}-{i}", Body = [1, 2, 3] });
            }
        }

        ulong maxId = Math.Max(world.Group, Math.Max(other.ConversationId, direct.ConversationId));
        int attempts = 0;
        var successes = new List<string>();
        foreach (var who in new[] { Who.NonMember, Who.Removed, Who.ServerAdmin })
        {
            var connection = world.Connection(who);
            foreach (ulong id in Enumerable.Range(1, (int)maxId + 5).Select(i => (ulong)i))
            {
                ulong head = world.Head(id);
                foreach (var seq in Enumerable.Range(1, (int)Math.Max(1, head)).Select(s => (ulong)s))
                {
                    foreach (var message in world.SweepMessages(id, seq))
                    {
                        attempts++;
                        var answer = await world.AskAsync(who, message);
                        if (answer.Message is not Error { Code: ErrorCode.NotFound })
                        {
                            successes.Add($"{who}: {message.Type} on conversation {id} seq {seq} answered {answer}");
                        }
                    }
                }
            }
        }

        Assert.True(attempts > 100, $"only {attempts} attempts");
        Assert.True(successes.Count == 0, string.Join("\n", successes));
    }

    private static Outcome? Classify(ReceivedFrame answer) => answer.Message switch
    {
        Error { Code: ErrorCode.NotFound } => Outcome.NotFound,
        Error { Code: ErrorCode.Forbidden } => Outcome.Forbidden,
        Error => null,
        _ => Outcome.Ok,
    };

    /// <summary>A broker with a group holding one user of each role, and one connection per kind of caller.</summary>
    private sealed class World : IAsyncDisposable
    {
        private readonly Dictionary<Who, RawConnection> _connections = [];
        private readonly Dictionary<Who, ulong> _users = [];
        private readonly Dictionary<Who, Queue<ulong>> _ownSeqs = [];
        private int _next;

        private World(TestBroker broker) => Broker = broker;

        public TestBroker Broker { get; }

        public ulong Group { get; private set; }

        private ulong PosterId { get; set; }

        private RawConnection Poster { get; set; } = null!;

        public static async Task<World> CreateAsync()
        {
            var broker = await TestBroker.StartAsync();
            var world = new World(broker);
            await world.PopulateAsync();
            return world;
        }

        public RawConnection Connection(Who who) => _connections[who];

        public ulong UserId(Who who) => _users[who];

        public ulong Head(ulong conversationId) => Broker.Server.Store.GetHead(conversationId)?.Head ?? 0;

        private async Task PopulateAsync()
        {
            foreach (var who in Enum.GetValues<Who>())
            {
                var issued = await Broker.Server.CreateUserAsync(who.ToString().ToLowerInvariant(), "d1", isAdmin: who == Who.ServerAdmin);
                _users[who] = issued.User.UserId;
                _connections[who] = await RawConnection.ConnectAuthenticatedAsync(Broker, issued.Token);
            }

            var poster = await Broker.CreateUserAsync("poster");
            PosterId = poster.User.UserId;
            Poster = await RawConnection.ConnectAuthenticatedAsync(Broker, poster.Token);

            var owner = _connections[Who.Owner];
            var members = new[] { Who.Removed, Who.Muted, Who.Member, Who.Admin }.Select(w => _users[w]).Append(PosterId).ToArray();
            var group = await owner.AskAsync(new CreateGroup { Title = "team", Members = members });
            Group = ((ConversationInfo)group.Message!).ConversationId;

            // Each member posts once while still a plain member (their own message for RecallOwn and EditOwn).
            foreach (var who in new[] { Who.Removed, Who.Muted, Who.Member, Who.Admin, Who.Owner })
            {
                _ownSeqs[who] = new Queue<ulong>();
                for (int i = 0; i < 2; i++)
                {
                    var ack = await _connections[who].AskAsync(new Send { ConversationId = Group, ClientMsgId = $"own-{who}-{i}", Body = Encoding.UTF8.GetBytes(who.ToString()) });
                    _ownSeqs[who].Enqueue(((SendAck)ack.Message!).Seq);
                }
            }

            await Expect<EmptyMessage>(owner, new SetRole { ConversationId = Group, UserId = _users[Who.Admin], Role = MemberRole.Admin });
            await Expect<EmptyMessage>(owner, new SetRole { ConversationId = Group, UserId = _users[Who.Muted], Role = MemberRole.Muted });
            await Expect<EmptyMessage>(owner, new RemoveMembers { ConversationId = Group, UserIds = [_users[Who.Removed]] });
        }

        /// <summary>Builds the request for one cell, creating whatever it acts on (a fresh message, a fresh member).</summary>
        public async Task<IMessage> PrepareAsync(Op op, Who who, ulong conversation)
        {
            string id = $"m-{Interlocked.Increment(ref _next)}";
            switch (op)
            {
                case Op.Send: return new Send { ConversationId = conversation, ClientMsgId = id, Body = [1] };
                case Op.History: return new History { ConversationId = conversation, Limit = 10 };
                case Op.SyncConversation: return new SyncConversation { ConversationId = conversation, Limit = 10 };
                case Op.ListMembers: return new ListMembers { ConversationId = conversation };
                case Op.MarkRead: return new MarkRead { ConversationId = conversation, Seq = 1 };
                case Op.Typing: return new Typing { ConversationId = conversation, Active = true };
                case Op.GetGroupSettings: return new GetGroupSettings { ConversationId = conversation };
                case Op.ListHidden: return new ListHidden { ConversationId = conversation };
                case Op.DeleteForMe: return new DeleteForMe { ConversationId = conversation, Seqs = [1] };
                case Op.UpdateGroup: return new UpdateGroup { ConversationId = conversation, Title = $"title by {who}" };
                case Op.Leave: return new LeaveGroup { ConversationId = conversation };
                case Op.AddMembers: return new AddMembers { ConversationId = conversation, UserIds = [await NewUserAsync(id, join: false)] };
                case Op.RemoveMembers: return new RemoveMembers { ConversationId = conversation, UserIds = [await NewUserAsync(id, join: true)] };
                case Op.SetRole: return new SetRole { ConversationId = conversation, UserId = await NewUserAsync(id, join: true), Role = MemberRole.Muted };
                case Op.RecallOwn: return new Recall { ConversationId = conversation, ClientMsgId = id, TargetSeq = await OwnMessageAsync(who) };
                case Op.RecallOthers: return new Recall { ConversationId = conversation, ClientMsgId = id, TargetSeq = await PostAsync() };
                case Op.EditOwn: return new Edit { ConversationId = conversation, ClientMsgId = id, TargetSeq = await OwnMessageAsync(who), Body = [9] };
                case Op.EditOthers: return new Edit { ConversationId = conversation, ClientMsgId = id, TargetSeq = await PostAsync(), Body = [9] };
                case Op.Delete: return new Delete { ConversationId = conversation, ClientMsgId = id, TargetSeq = await PostAsync() };
                default: throw new ArgumentOutOfRangeException(nameof(op));
            }
        }

        /// <summary>The request for one operation on conversation <paramref name="conversation"/> naming seq 1 and <paramref name="userId"/>.</summary>
        public static IMessage Unprepared(Op op, ulong conversation, ulong userId) => op switch
        {
            Op.Send => new Send { ConversationId = conversation, ClientMsgId = "a", Body = [1] },
            Op.History => new History { ConversationId = conversation },
            Op.SyncConversation => new SyncConversation { ConversationId = conversation },
            Op.ListMembers => new ListMembers { ConversationId = conversation },
            Op.MarkRead => new MarkRead { ConversationId = conversation, Seq = 1 },
            Op.Typing => new Typing { ConversationId = conversation, Active = true },
            Op.GetGroupSettings => new GetGroupSettings { ConversationId = conversation },
            Op.ListHidden => new ListHidden { ConversationId = conversation },
            Op.DeleteForMe => new DeleteForMe { ConversationId = conversation, Seqs = [1] },
            Op.AddMembers => new AddMembers { ConversationId = conversation, UserIds = [userId] },
            Op.RemoveMembers => new RemoveMembers { ConversationId = conversation, UserIds = [userId] },
            Op.SetRole => new SetRole { ConversationId = conversation, UserId = userId, Role = MemberRole.Muted },
            Op.UpdateGroup => new UpdateGroup { ConversationId = conversation, ReadOnly = true },
            Op.RecallOwn or Op.RecallOthers => new Recall { ConversationId = conversation, ClientMsgId = "a", TargetSeq = 1 },
            Op.EditOwn or Op.EditOthers => new Edit { ConversationId = conversation, ClientMsgId = "a", TargetSeq = 1, Body = [1] },
            Op.Delete => new Delete { ConversationId = conversation, ClientMsgId = "a", TargetSeq = 1 },
            _ => new LeaveGroup { ConversationId = conversation },
        };

        /// <summary>The requests of the id sweep on one conversation and seq (everything that names a conversation).</summary>
        public IEnumerable<IMessage> SweepMessages(ulong conversation, ulong seq)
        {
            string id = $"s-{Interlocked.Increment(ref _next)}";
            yield return new Send { ConversationId = conversation, ClientMsgId = id, Body = [1] };
            yield return new History { ConversationId = conversation, BeforeSeq = seq + 1, Limit = 10 };
            yield return new SyncConversation { ConversationId = conversation, AfterSeq = seq - 1, Limit = 10 };
            yield return new ListMembers { ConversationId = conversation };
            yield return new MarkRead { ConversationId = conversation, Seq = seq };
            yield return new Typing { ConversationId = conversation, Active = true };
            yield return new GetGroupSettings { ConversationId = conversation };
            yield return new ListHidden { ConversationId = conversation };
            yield return new DeleteForMe { ConversationId = conversation, Seqs = [seq] };
            yield return new AddMembers { ConversationId = conversation, UserIds = [_users[Who.NonMember]] };
            yield return new RemoveMembers { ConversationId = conversation, UserIds = [_users[Who.Member]] };
            yield return new SetRole { ConversationId = conversation, UserId = _users[Who.Member], Role = MemberRole.Owner };
            yield return new UpdateGroup { ConversationId = conversation, Title = "mine", ReadOnly = true };
            yield return new Recall { ConversationId = conversation, ClientMsgId = id + "r", TargetSeq = seq };
            yield return new Edit { ConversationId = conversation, ClientMsgId = id + "e", TargetSeq = seq, Body = [2] };
            yield return new Delete { ConversationId = conversation, ClientMsgId = id + "d", TargetSeq = seq };
            yield return new LeaveGroup { ConversationId = conversation };
        }

        /// <summary>Sends one request and returns its terminal answer (after any Deliver frames of a sync stream).</summary>
        public Task<ReceivedFrame> AskAsync(Who who, IMessage message) => _connections[who].AskAsync(message);

        private async Task<ulong> OwnMessageAsync(Who who)
        {
            if (_ownSeqs.TryGetValue(who, out var queue) && queue.TryDequeue(out var seq))
            {
                // Each message posted during setup serves one cell (a recall retracts it).
                return seq;
            }

            if (who is Who.Member or Who.Admin or Who.Owner)
            {
                var ack = await _connections[who].AskAsync(new Send { ConversationId = Group, ClientMsgId = $"own-{Interlocked.Increment(ref _next)}", Body = [3] });
                return ((SendAck)ack.Message!).Seq;
            }

            // Muted members cannot post a new one, and non-members have none: any existing message stands in.
            return 1;
        }

        private async Task<ulong> PostAsync()
        {
            var ack = await Poster.AskAsync(new Send { ConversationId = Group, ClientMsgId = $"p-{Interlocked.Increment(ref _next)}", Body = [4] });
            return ((SendAck)ack.Message!).Seq;
        }

        private async Task<ulong> NewUserAsync(string name, bool join)
        {
            var user = await Broker.Server.CreateUserAsync("u" + name, "d1");
            if (join)
            {
                await Expect<EmptyMessage>(_connections[Who.Owner], new AddMembers { ConversationId = Group, UserIds = [user.User.UserId] });
            }

            return user.User.UserId;
        }

        private static async Task Expect<T>(RawConnection connection, IMessage request)
        {
            var answer = await connection.AskAsync(request);
            Assert.True(answer.Message is T, $"{request.Type} answered {answer}");
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var connection in _connections.Values)
            {
                await connection.DisposeAsync();
            }

            if (Poster is not null)
            {
                await Poster.DisposeAsync();
            }

            await Broker.DisposeAsync();
        }
    }
}

/// <summary>Request helpers for raw connections used by the permission tests.</summary>
internal static class RawRequests
{
    /// <summary>Sends one request and returns its terminal answer, skipping the Deliver frames of a sync stream and pushes.</summary>
    public static async Task<ReceivedFrame> AskAsync(this RawConnection connection, IMessage message)
    {
        uint id = connection.NextRequestId();
        await connection.SendAsync(FrameWriter.ToArray(id, message));
        while (true)
        {
            var frame = await connection.ReadAnswerAsync();
            if (frame.Header.RequestId == id && frame.Header.MessageType != MessageType.Deliver)
            {
                return frame;
            }
        }
    }
}
