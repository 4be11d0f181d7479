using System.Collections.Concurrent;
using System.Threading.Channels;
using Wren.Protocol;
using Wren.Protocol.Messages;

namespace Wren.Client;

/// <summary>
/// A Wren client for one device: connects with TLS, authenticates, catches up, and then receives live pushes.
/// </summary>
/// <remarks>
/// <para>Deliveries reach <see cref="Events"/> in seq order per conversation, without duplicates: the client drops
/// what it already holds, holds back entries that arrive after a gap and fills the gap with a range fetch.</para>
/// <para>Sends are idempotent: each carries a client message id, and a send not yet acknowledged when the connection
/// drops is resent after the reconnect with the same id, so it is stored exactly once.</para>
/// </remarks>
public sealed partial class WrenClient : IAsyncDisposable
{
    private readonly WrenClientOptions _options;
    private readonly Channel<IMessage> _events = Channel.CreateUnbounded<IMessage>();
    private readonly ConcurrentDictionary<uint, TaskCompletionSource<IMessage>> _requests = new();
    private readonly ConcurrentDictionary<string, PendingSend> _sends = new();
    private readonly Dictionary<ulong, ConversationOrder> _order = [];
    private readonly Dictionary<ulong, ulong> _toAck = []; // guarded by _ackLock, with _ackWriterRunning
    private readonly Lock _ackLock = new();
    private readonly Lock _disposeLock = new();

    // The read loop's own lists: frames decoded from one read, and deliveries ordered but not yet published.
    private readonly List<(uint RequestId, IMessage Message)> _inbox = [];
    private readonly List<Deliver> _ready = [];
    private readonly List<(ulong ConversationId, ConversationOrder Order)> _moved = [];
    private readonly CancellationTokenSource _disposing = new();
    private readonly SemaphoreSlim _sendSlots;
    private readonly Lock _stateLock = new();
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Stream? _stream;
    private Outbox? _outbox; // the writer of _stream; set and cleared with it
    private Task _supervisor = Task.CompletedTask;
    private int _nextRequestId;
    private int _reconnects;
    private int _gapFills;
    private int _throttledSends;
    private bool _ackWriterRunning;

    private WrenClient(WrenClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        // Task.Delay refuses more than about 49 days, which would stop the ack writer for good; a minute is already far
        // more than any cursor should lag.
        if (options.AckDelay < TimeSpan.Zero || options.AckDelay > WrenClientOptions.MaxAckDelay)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.AckDelay, $"AckDelay must be between zero and {WrenClientOptions.MaxAckDelay}.");
        }

        _options = options;
        _sendSlots = new SemaphoreSlim(Math.Max(1, options.MaxPendingSends));
    }

    /// <summary>The server's Welcome on the current connection.</summary>
    public Welcome? Welcome { get; private set; }

    /// <summary>Who this client is authenticated as.</summary>
    public AuthOk? Session { get; private set; }

    /// <summary>Pushes: Deliver (ordered and deduplicated per conversation), ReadReceipt, Typing, Presence, GoAway.</summary>
    public ChannelReader<IMessage> Events => _events.Reader;

    /// <summary>
    /// Raised with true when a connection (the first or a reconnect) is authenticated and caught up, and with false when
    /// it is lost. Runs on a background thread; keep handlers short.
    /// </summary>
    public event EventHandler<bool>? ConnectionChanged;

    /// <summary>True while connected and authenticated.</summary>
    public bool IsConnected => _connected.Task.IsCompletedSuccessfully;

    /// <summary>How many times the client reconnected.</summary>
    public int Reconnects => Volatile.Read(ref _reconnects);

    /// <summary>
    /// Gaps this client had to fill with a range fetch. The server delivers gap-free, so this stays 0 unless frames were
    /// lost (for example the server cut the connection mid-stream); it is exposed for diagnostics and tests.
    /// </summary>
    public int GapFills => Volatile.Read(ref _gapFills);

    /// <summary>
    /// Times a send was refused with RateLimited or StorageUnavailable and retried automatically after the server's
    /// delay. A growing number means the sender is faster than the server lets it be.
    /// </summary>
    public int ThrottledSends => Volatile.Read(ref _throttledSends);

    /// <summary>Sends waiting for their SendAck (including those waiting for a reconnect).</summary>
    public int PendingSends => _sends.Count;

    /// <summary>Connects, authenticates and catches up (SyncAll until nothing is missing).</summary>
    /// <remarks>
    /// Returns once the catch-up has completed, or as soon as the client is authenticated when
    /// <see cref="WrenClientOptions.WaitForCatchUp"/> is off (the catch-up then streams to <see cref="Events"/> in the
    /// background). Either way the missed messages reach <see cref="Events"/> in order, once each.
    /// </remarks>
    public static async Task<WrenClient> ConnectAsync(WrenClientOptions options, CancellationToken cancellationToken = default)
    {
        var client = new WrenClient(options);
        try
        {
            await client.ConnectOnceAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return client;
    }

    /// <summary>Sends a message; completes with its SendAck once the server has stored it durably.</summary>
    /// <param name="conversationId">The conversation.</param>
    /// <param name="body">Opaque content.</param>
    /// <param name="clientMsgId">Idempotency key; a new GUID when null. Reuse it only to retry the same message.</param>
    /// <param name="cancellationToken">Cancels the wait (the message may still be stored).</param>
    public async Task<SendAck> SendAsync(ulong conversationId, ReadOnlyMemory<byte> body, string? clientMsgId = null, CancellationToken cancellationToken = default)
    {
        var send = new Send { ConversationId = conversationId, ClientMsgId = clientMsgId ?? NewClientMsgId(), Body = body.ToArray() };
        var pending = new PendingSend(send);

        // Backpressure: past MaxPendingSends unacknowledged sends, the caller waits here instead of growing a backlog.
        await _sendSlots.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (!_sends.TryAdd(send.ClientMsgId, pending))
        {
            _sendSlots.Release();
            throw new InvalidOperationException($"a send with client message id {send.ClientMsgId} is already pending");
        }

        _ = pending.Completion.Task.ContinueWith(static (_, slots) => ((SemaphoreSlim)slots!).Release(), _sendSlots, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        if (IsConnected)
        {
            await TransmitSendAsync(pending).ConfigureAwait(false);
        }

        if (_options.AutoReconnect && !cancellationToken.CanBeCanceled)
        {
            // Nothing can end the wait but the SendAck (or a final error): no linked token source and no cancellable
            // wait per send (together 2.4 % of the benchmark generator's CPU at W1 32,000 msg/s).
            return await pending.Completion.Task.ConfigureAwait(false);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (!_options.AutoReconnect)
        {
            timeout.CancelAfter(_options.RequestTimeout);
        }

        return await pending.Completion.Task.WaitAsync(timeout.Token).ConfigureAwait(false);
    }

    /// <summary>Records that this device processed a conversation up to <paramref name="seq"/>.</summary>
    public Task AckAsync(ulong conversationId, ulong seq) =>
        WriteAsync(0, new Ack { Items = [new AckItem { ConversationId = conversationId, Seq = seq }] });

    /// <summary>Streams what this device is missing across all conversations; deliveries go to <see cref="Events"/>.</summary>
    public async Task<SyncDone> SyncAllAsync(CancellationToken cancellationToken = default)
    {
        SyncDone done;
        do
        {
            var cursors = _options.CursorStore.All()
                .Select(c => new SyncCursor { ConversationId = c.Key, Epoch = c.Value.Epoch, Seq = c.Value.Seq })
                .Take(Welcome?.Limits.MaxListItems is > 0 and var max ? (int)max : 1000)
                .ToArray();
            done = await RequestAsync<SyncDone>(new SyncAll { Cursors = cursors }, cancellationToken).ConfigureAwait(false);
        }
        while (done.More);

        return done;
    }

    /// <summary>Fetches one conversation's entries after a seq (gap filling); deliveries go to <see cref="Events"/>.</summary>
    public Task<SyncDone> SyncConversationAsync(ulong conversationId, ulong afterSeq, uint epoch = 0, CancellationToken cancellationToken = default) =>
        RequestAsync<SyncDone>(new SyncConversation { ConversationId = conversationId, AfterSeq = afterSeq, Epoch = epoch }, cancellationToken);

    /// <summary>One page of history before a seq (0 = newest), oldest first.</summary>
    public Task<HistoryPage> HistoryAsync(ulong conversationId, ulong beforeSeq = 0, uint limit = 0, CancellationToken cancellationToken = default) =>
        RequestAsync<HistoryPage>(new History { ConversationId = conversationId, BeforeSeq = beforeSeq, Limit = limit }, cancellationToken);

    /// <summary>Creates a group with this user as owner.</summary>
    public Task<ConversationInfo> CreateGroupAsync(string title, IEnumerable<ulong> members, CancellationToken cancellationToken = default) =>
        RequestAsync<ConversationInfo>(new CreateGroup { Title = title, Members = [.. members] }, cancellationToken);

    /// <summary>Finds or creates the direct conversation with a user.</summary>
    public Task<ConversationInfo> OpenDirectAsync(ulong peerUserId, CancellationToken cancellationToken = default) =>
        RequestAsync<ConversationInfo>(new OpenDirect { PeerUserId = peerUserId }, cancellationToken);

    /// <summary>Adds members to a group.</summary>
    public Task AddMembersAsync(ulong conversationId, IEnumerable<ulong> userIds, CancellationToken cancellationToken = default) =>
        RequestAsync<EmptyMessage>(new AddMembers { ConversationId = conversationId, UserIds = [.. userIds] }, cancellationToken);

    /// <summary>Removes members from a group (or leaves it, when the list is this user).</summary>
    public Task RemoveMembersAsync(ulong conversationId, IEnumerable<ulong> userIds, CancellationToken cancellationToken = default) =>
        RequestAsync<EmptyMessage>(new RemoveMembers { ConversationId = conversationId, UserIds = [.. userIds] }, cancellationToken);

    /// <summary>A page of members.</summary>
    public Task<MemberList> ListMembersAsync(ulong conversationId, ulong afterUserId = 0, uint limit = 0, CancellationToken cancellationToken = default) =>
        RequestAsync<MemberList>(new ListMembers { ConversationId = conversationId, AfterUserId = afterUserId, Limit = limit }, cancellationToken);

    /// <summary>A page of this user's conversations with heads and read cursors.</summary>
    public Task<ConversationList> ListConversationsAsync(ulong afterConversationId = 0, uint limit = 0, CancellationToken cancellationToken = default) =>
        RequestAsync<ConversationList>(new ListConversations { AfterConversationId = afterConversationId, Limit = limit }, cancellationToken);

    /// <summary>Moves this user's read cursor.</summary>
    public Task MarkReadAsync(ulong conversationId, ulong seq, CancellationToken cancellationToken = default) =>
        RequestAsync<EmptyMessage>(new MarkRead { ConversationId = conversationId, Seq = seq }, cancellationToken);

    /// <summary>Tells the other members that this user started or stopped typing.</summary>
    public Task TypingAsync(ulong conversationId, bool active) =>
        WriteAsync(0, new Typing { ConversationId = conversationId, Active = active });

    /// <summary>Presence of users this user shares a conversation with.</summary>
    public Task<PresenceList> QueryPresenceAsync(IEnumerable<ulong> userIds, CancellationToken cancellationToken = default) =>
        RequestAsync<PresenceList>(new QueryPresence { UserIds = [.. userIds] }, cancellationToken);

    /// <summary>Looks users up by id and name.</summary>
    public Task<UserList> ResolveUsersAsync(IEnumerable<ulong>? ids = null, IEnumerable<string>? names = null, CancellationToken cancellationToken = default) =>
        RequestAsync<UserList>(new ResolveUsers { UserIds = [.. ids ?? []], UserNames = [.. names ?? []] }, cancellationToken);

    /// <summary>Administrators: creates a user.</summary>
    public Task<AdminUser> AdminCreateUserAsync(string userName, string? displayName = null, bool isAdmin = false, CancellationToken cancellationToken = default) =>
        RequestAsync<AdminUser>(new AdminCreateUser { UserName = userName, DisplayName = displayName ?? "", IsAdmin = isAdmin }, cancellationToken);

    /// <summary>Administrators: issues a device token for a new device of a user.</summary>
    public Task<AdminToken> AdminIssueTokenAsync(string userName, string deviceName, TimeSpan? lifetime = null, CancellationToken cancellationToken = default) =>
        RequestAsync<AdminToken>(new AdminIssueToken { UserName = userName, DeviceName = deviceName, TtlSeconds = (uint)(lifetime?.TotalSeconds ?? 0) }, cancellationToken);

    /// <summary>Administrators: a page of users.</summary>
    public Task<AdminUserList> AdminListUsersAsync(ulong afterUserId = 0, uint limit = 0, CancellationToken cancellationToken = default) =>
        RequestAsync<AdminUserList>(new AdminListUsers { AfterUserId = afterUserId, Limit = limit }, cancellationToken);

    /// <summary>Administrators: disables (closing its sessions) or enables a user.</summary>
    public Task AdminSetDisabledAsync(ulong userId, bool disabled, CancellationToken cancellationToken = default) =>
        RequestAsync<EmptyMessage>(new AdminSetDisabled { UserId = userId, Disabled = disabled }, cancellationToken);

    /// <summary>Administrators: server statistics.</summary>
    public Task<AdminStatsResult> AdminStatsAsync(CancellationToken cancellationToken = default) =>
        RequestAsync<AdminStatsResult>(new AdminStats(), cancellationToken);

    /// <summary>Administrators: a page of any conversation's log from <paramref name="fromSeq"/> (0 = the first entry), ascending.</summary>
    /// <remarks>Membership is not checked: this is the operator's inspection tool. The page ends early when it would not fit one frame.</remarks>
    public Task<AdminLogPage> AdminInspectLogAsync(ulong conversationId, ulong fromSeq = 0, uint limit = 0, CancellationToken cancellationToken = default) =>
        RequestAsync<AdminLogPage>(new AdminInspectLog { ConversationId = conversationId, FromSeq = fromSeq, Limit = limit }, cancellationToken);

    /// <summary>Administrators: a user's tokens (ids derived from their hashes; never the secrets).</summary>
    public Task<AdminTokenList> AdminListTokensAsync(string userName, CancellationToken cancellationToken = default) =>
        RequestAsync<AdminTokenList>(new AdminListTokens { UserName = userName }, cancellationToken);

    /// <summary>Administrators: revokes one token of a user; the sessions of its device close with SessionRevoked.</summary>
    public Task AdminRevokeTokenAsync(string userName, string tokenId, CancellationToken cancellationToken = default) =>
        RequestAsync<EmptyMessage>(new AdminRevokeToken { UserName = userName, TokenId = tokenId }, cancellationToken);

    /// <summary>Administrators: a page of a user's conversations as that user sees them (role, read cursor).</summary>
    public Task<ConversationList> AdminListUserConversationsAsync(string userName, ulong afterConversationId = 0, uint limit = 0, CancellationToken cancellationToken = default) =>
        RequestAsync<ConversationList>(new AdminListUserConversations { UserName = userName, AfterConversationId = afterConversationId, Limit = limit }, cancellationToken);

    /// <summary>Administrators: sets a member's role in a group.</summary>
    /// <remarks>Direct conversations and demoting a group's last owner are answered Forbidden; a non-member NotFound.</remarks>
    public Task AdminSetRoleAsync(ulong conversationId, ulong userId, MemberRole role, CancellationToken cancellationToken = default) =>
        RequestAsync<EmptyMessage>(new AdminSetRole { ConversationId = conversationId, UserId = userId, Role = role }, cancellationToken);

    /// <summary>Administrators: writes a consistent copy of the broker's store into a new directory on the broker's host.</summary>
    /// <remarks>
    /// <paramref name="targetDirectory"/> is an absolute path on the broker's host that must not exist yet (else
    /// InvalidArgument). Completes when the copy is complete; the request timeout applies.
    /// </remarks>
    public Task AdminCheckpointAsync(string targetDirectory, CancellationToken cancellationToken = default) =>
        RequestAsync<EmptyMessage>(new AdminCheckpoint { TargetDirectory = targetDirectory }, cancellationToken);

    /// <summary>Round trip to the server.</summary>
    public Task PingAsync(CancellationToken cancellationToken = default) =>
        RequestAsync<EmptyMessage>(EmptyMessage.Ping, cancellationToken);

    /// <summary>Sends a request and waits for its answer; an Error answer throws <see cref="WrenClientException"/>.</summary>
    public async Task<T> RequestAsync<T>(IMessage request, CancellationToken cancellationToken = default)
        where T : IMessage
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposing.Token);
        timeout.CancelAfter(_options.RequestTimeout);
        await _connected.Task.WaitAsync(timeout.Token).ConfigureAwait(false);
        uint id = NextRequestId();
        var completion = new TaskCompletionSource<IMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        _requests[id] = completion;
        try
        {
            await WriteAsync(id, request).ConfigureAwait(false);
            var answer = await completion.Task.WaitAsync(timeout.Token).ConfigureAwait(false);
            return answer switch
            {
                T typed => typed,
                Error error => throw new WrenClientException(error.Code, error.Message, error.RetryAfterMs),
                _ => throw new WrenClientException(ErrorCode.ProtocolError, $"expected {typeof(T).Name}, got {answer.Type}"),
            };
        }
        finally
        {
            _requests.TryRemove(id, out _);
        }
    }

    /// <summary>Closes the connection and stops reconnecting.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposing.IsCancellationRequested)
        {
            return;
        }

        await FlushAcksAsync().ConfigureAwait(false);
        await _disposing.CancelAsync().ConfigureAwait(false);
        CloseStream();
        try
        {
            await _supervisor.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or WrenClientException)
        {
            // Shutting down: the loops end with the connection.
        }

        _events.Writer.TryComplete();
        foreach (var pending in _sends.Values)
        {
            pending.Completion.TrySetCanceled();
        }

        _disposing.Dispose();
    }

    /// <summary>Drops the connection as if the network failed (the client reconnects when AutoReconnect is on).</summary>
    public void SimulateDisconnect() => CloseStream();

    private uint NextRequestId()
    {
        uint id;
        do
        {
            id = (uint)Interlocked.Increment(ref _nextRequestId);
        }
        while (id == 0);
        return id;
    }

    private async Task TransmitSendAsync(PendingSend pending)
    {
        uint id = NextRequestId();
        var completion = new TaskCompletionSource<IMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        _requests[id] = completion;
        _ = completion.Task.ContinueWith(
            t =>
            {
                _requests.TryRemove(id, out _);
                if (t.IsCompletedSuccessfully)
                {
                    switch (t.Result)
                    {
                        case SendAck ack:
                            _sends.TryRemove(pending.Send.ClientMsgId, out _);
                            pending.Completion.TrySetResult(ack);
                            break;
                        case Error { Code: ErrorCode.StorageUnavailable or ErrorCode.RateLimited } error when _options.AutoReconnect:
                            // Retried with the same id after the server's suggested delay.
                            Interlocked.Increment(ref _throttledSends);
                            _ = RetryLaterAsync(pending, error.RetryAfterMs);
                            break;
                        case Error error:
                            _sends.TryRemove(pending.Send.ClientMsgId, out _);
                            pending.Completion.TrySetException(new WrenClientException(error.Code, error.Message, error.RetryAfterMs));
                            break;
                    }
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        try
        {
            await WriteAsync(id, pending.Send).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or WrenClientException)
        {
            // The send stays pending and goes out again after the reconnect.
            _requests.TryRemove(id, out _);
        }
    }

    private async Task RetryLaterAsync(PendingSend pending, uint delayMs)
    {
        try
        {
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(50, delayMs)), _disposing.Token).ConfigureAwait(false);
            if (IsConnected)
            {
                await TransmitSendAsync(pending).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed.
        }
    }

    /// <summary>Queues one frame on the current connection's outbox; completes when the write carrying it completes.</summary>
    private Task WriteAsync<T>(uint requestId, T message)
        where T : IMessage
    {
        var outbox = _outbox;
        return outbox is null
            ? Task.FromException(WrenClientException.ConnectionFailure("not connected"))
            : outbox.Enqueue(requestId, message);
    }

    private void CloseStream()
    {
        Stream? stream;
        lock (_stateLock)
        {
            stream = _stream;
        }

        if (stream is not null)
        {
            DisposeStream(stream);
        }
    }

    /// <summary>
    /// Disposes a connection's stream. The read loop, the keep-alive, <see cref="DisposeAsync"/> and
    /// <see cref="SimulateDisconnect"/> may all close the same stream at once, and <see cref="System.Net.Security.SslStream"/>
    /// does not support concurrent disposal (it can throw from inside OpenSSL handle cleanup), so disposals run one at a time.
    /// </summary>
    private void DisposeStream(Stream stream)
    {
        lock (_disposeLock)
        {
            stream.Dispose();
        }
    }

    private sealed class PendingSend(Send send)
    {
        public Send Send { get; } = send;

        public TaskCompletionSource<SendAck> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class ConversationOrder
    {
        public bool Known { get; set; }

        public uint Epoch { get; set; }

        public ulong Last { get; set; }

        public SortedDictionary<ulong, Deliver> Held { get; } = [];

        public bool FillInFlight { get; set; }

        /// <summary>True while a new position waits in the read loop's list of moved conversations.</summary>
        public bool Moved { get; set; }
    }
}
