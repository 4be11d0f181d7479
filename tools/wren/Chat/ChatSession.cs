using System.Threading.Channels;
using Wren.Cli.Commands;
using Wren.Client;
using Wren.Protocol;
using Wren.Protocol.Messages;

namespace Wren.Cli.Chat;

/// <summary>
/// The chat without its terminal: opens conversations, shows history once and then only newer messages, sends, marks
/// what was shown as read, and turns the SDK's pushes into <see cref="ChatEvent"/>s about the open conversation.
/// </summary>
/// <remarks>
/// One pump task is the only reader of the client's events. Opening a conversation holds back its deliveries until the
/// history page is in, then releases those newer than the page, so each message is shown exactly once and in seq order.
/// </remarks>
internal sealed class ChatSession : IAsyncDisposable
{
    private readonly WrenClient _client;
    private readonly Channel<ChatEvent> _events = Channel.CreateUnbounded<ChatEvent>();
    private readonly Dictionary<ulong, string> _names = [];
    private readonly Dictionary<ulong, ChatConversation> _known = [];
    private readonly HashSet<ulong> _notified = [];
    private readonly List<Deliver> _held = [];
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stopping = new();
    private Task _pump = Task.CompletedTask;
    private ChatConversation? _current;
    private ulong _lastShown;
    private ulong _myLast;
    private readonly Dictionary<ulong, ulong> _receiptShown = [];
    private bool _opening;
    private bool _typing;

    private ChatSession(WrenClient client) => _client = client;

    /// <summary>Who is chatting.</summary>
    public AuthOk Me => _client.Session!;

    /// <summary>The open conversation, if any.</summary>
    public ChatConversation? Current
    {
        get
        {
            lock (_lock)
            {
                return _current;
            }
        }
    }

    /// <summary>Events about the open conversation, in arrival order.</summary>
    public ChannelReader<ChatEvent> Events => _events.Reader;

    /// <summary>True while the SDK is connected (it reconnects by itself after a drop).</summary>
    public bool IsConnected => _client.IsConnected;

    /// <summary>Starts a session over a connected client, which it owns from now on.</summary>
    public static ChatSession Start(WrenClient client)
    {
        var session = new ChatSession(client);
        session._names[client.Session!.UserId] = client.Session.UserName;
        session._pump = session.PumpAsync();
        return session;
    }

    /// <summary>The user's conversations with unread counts, in id order.</summary>
    public async Task<IReadOnlyList<ChatConversation>> ListConversationsAsync(CancellationToken cancellationToken)
    {
        var list = await Conversations.ListAllAsync(_client, cancellationToken).ConfigureAwait(false);
        await ResolveNamesAsync(list.Select(c => c.PeerUserId), cancellationToken).ConfigureAwait(false);
        var result = new List<ChatConversation>();
        lock (_lock)
        {
            foreach (var info in list)
            {
                var conversation = new ChatConversation(info.ConversationId, Conversations.Label(info, _names), info.Kind, info.MemberCount, info.Head, info.ReadSeq);
                _known[conversation.Id] = conversation;
                result.Add(conversation);
            }
        }

        return result;
    }

    /// <summary>Opens the direct conversation with a user (created on first use).</summary>
    public async Task<(ChatConversation Conversation, IReadOnlyList<ChatMessage> Recent)> OpenDirectAsync(string user, int historyCount, CancellationToken cancellationToken)
    {
        var peer = await Users.ResolveAsync(_client, user.TrimStart('@'), cancellationToken).ConfigureAwait(false);
        if (peer.UserId == Me.UserId)
        {
            throw new CliException("a direct conversation needs another user");
        }

        ulong direct = await Conversations.FindOrOpenDirectAsync(_client, peer.UserId, cancellationToken).ConfigureAwait(false);
        return await OpenAsync(direct, historyCount, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Opens a conversation: returns its last <paramref name="historyCount"/> messages (plus any that arrived while
    /// they were fetched), marks them read, and from then on reports its new messages, receipts and typing as events.
    /// </summary>
    public async Task<(ChatConversation Conversation, IReadOnlyList<ChatMessage> Recent)> OpenAsync(ulong conversationId, int historyCount, CancellationToken cancellationToken)
    {
        await SetTypingAsync(false).ConfigureAwait(false);
        var conversation = (await ListConversationsAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(c => c.Id == conversationId)
            ?? throw new CliException($"not found: conversation {conversationId} does not exist or {Me.UserName} is not a member");
        lock (_lock)
        {
            _current = conversation;
            _opening = true;
            _held.Clear();
            _myLast = 0;
            _receiptShown.Clear();
            _notified.Remove(conversationId);
        }

        List<Deliver> entries;
        try
        {
            entries = await RecentMessages.RecentAsync(_client, conversationId, historyCount, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            lock (_lock)
            {
                _current = null;
                _opening = false;
            }

            throw;
        }

        ulong last = entries.Count > 0 ? entries[^1].Seq : conversation.Head;
        List<Deliver> released;
        lock (_lock)
        {
            released = [.. _held.Where(d => d.Seq > last).OrderBy(d => d.Seq)];
            _held.Clear();
            _lastShown = released.Count > 0 ? released[^1].Seq : last;
            _opening = false;
            last = _lastShown;
        }

        entries.AddRange(released);
        lock (_lock)
        {
            _myLast = entries.Where(e => e.SenderUserId == Me.UserId).Select(e => e.Seq).DefaultIfEmpty(0ul).Max();
        }

        await ResolveNamesAsync(entries.Select(e => e.SenderUserId), cancellationToken).ConfigureAwait(false);
        if (last > conversation.ReadSeq)
        {
            await _client.MarkReadAsync(conversationId, last, cancellationToken).ConfigureAwait(false);
        }

        return (conversation, [.. entries.Select(ToMessage)]);
    }

    /// <summary>The last <paramref name="count"/> messages of the open conversation (does not change what is shown live).</summary>
    public async Task<IReadOnlyList<ChatMessage>> HistoryAsync(int count, CancellationToken cancellationToken)
    {
        var conversation = Current ?? throw new InvalidOperationException("no conversation is open");
        var entries = await RecentMessages.RecentAsync(_client, conversation.Id, count, cancellationToken).ConfigureAwait(false);
        await ResolveNamesAsync(entries.Select(e => e.SenderUserId), cancellationToken).ConfigureAwait(false);
        return [.. entries.Select(ToMessage)];
    }

    /// <summary>Sends a line to the open conversation; completes when the broker stored it durably.</summary>
    /// <remarks>The message itself is shown when its Deliver arrives (every device of the author gets one), in seq order.</remarks>
    public async Task<SendAck> SendAsync(string text, CancellationToken cancellationToken)
    {
        var conversation = Current ?? throw new InvalidOperationException("no conversation is open");
        await SetTypingAsync(false).ConfigureAwait(false);
        return await _client.SendAsync(conversation.Id, MessageText.Encode(text), cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Tells the open conversation's other members that this user is (or stopped) typing; only changes are sent.</summary>
    public async Task SetTypingAsync(bool active)
    {
        ulong conversation;
        lock (_lock)
        {
            if (_typing == active || _current is null)
            {
                return;
            }

            _typing = active;
            conversation = _current.Id;
        }

        try
        {
            await _client.TypingAsync(conversation, active).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WrenClientException or IOException or ObjectDisposedException)
        {
            // Typing is best effort; a lost connection shows up elsewhere.
        }
    }

    /// <summary>Members of the open conversation with their presence.</summary>
    public async Task<IReadOnlyList<(string Name, string Role, bool Online)>> MembersAsync(CancellationToken cancellationToken)
    {
        var conversation = Current ?? throw new InvalidOperationException("no conversation is open");
        var members = await _client.ListMembersAsync(conversation.Id, 0, 0, cancellationToken).ConfigureAwait(false);
        await ResolveNamesAsync(members.Members.Select(m => m.UserId), cancellationToken).ConfigureAwait(false);
        var presence = await _client.QueryPresenceAsync(members.Members.Select(m => m.UserId), cancellationToken).ConfigureAwait(false);
        var online = presence.Items.Where(p => p.Status == PresenceStatus.Online).Select(p => p.UserId).ToHashSet();
        return [.. members.Members.Select(m => (Name(m.UserId), Conversations.Role(m.Role), online.Contains(m.UserId)))];
    }

    public async ValueTask DisposeAsync()
    {
        // Leaving mid-line must not leave "is typing" showing on the other members' screens.
        if (_client.IsConnected)
        {
            await SetTypingAsync(false).ConfigureAwait(false);
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _client.DisposeAsync().ConfigureAwait(false);
        try
        {
            await _pump.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }

        _stopping.Dispose();
    }

    private async Task PumpAsync()
    {
        await Task.Yield();
        try
        {
            await foreach (var message in _client.Events.ReadAllAsync(_stopping.Token).ConfigureAwait(false))
            {
                switch (message)
                {
                    case Deliver deliver:
                        await OnDeliverAsync(deliver).ConfigureAwait(false);
                        break;
                    case ReadReceipt receipt when receipt.UserId != Me.UserId && ReadsMyLatest(receipt):
                        await ResolveNamesAsync([receipt.UserId], _stopping.Token).ConfigureAwait(false);
                        _events.Writer.TryWrite(new ReadUpTo(receipt.ConversationId, Name(receipt.UserId), receipt.Seq));
                        break;
                    case Typing typing when typing.UserId != Me.UserId && Current?.Id == typing.ConversationId:
                        await ResolveNamesAsync([typing.UserId], _stopping.Token).ConfigureAwait(false);
                        _events.Writer.TryWrite(new TypingChanged(typing.ConversationId, Name(typing.UserId), typing.Active));
                        break;
                    case Presence presence when presence.UserId != Me.UserId:
                        await ResolveNamesAsync([presence.UserId], _stopping.Token).ConfigureAwait(false);
                        _events.Writer.TryWrite(new PresenceChanged(Name(presence.UserId), presence.Status == PresenceStatus.Online));
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Disposed.
        }
        catch (WrenClientException ex)
        {
            _events.Writer.TryWrite(new SessionEnded(ex.Code == ErrorCode.AuthFailed ? "the broker no longer accepts this token" : Failures.ServerMessage(ex)));
        }
        finally
        {
            _events.Writer.TryComplete();
        }
    }

    private async Task OnDeliverAsync(Deliver deliver)
    {
        bool show = false;
        ActivityElsewhere? elsewhere = null;
        lock (_lock)
        {
            if (_current?.Id == deliver.ConversationId)
            {
                if (_opening)
                {
                    _held.Add(deliver);
                }
                else if (deliver.Seq > _lastShown)
                {
                    _lastShown = deliver.Seq;
                    show = true;
                    if (deliver.SenderUserId == Me.UserId)
                    {
                        _myLast = deliver.Seq;
                    }
                }
            }
            else if (deliver.SenderUserId != Me.UserId)
            {
                bool known = _known.TryGetValue(deliver.ConversationId, out var other);
                if ((!known || deliver.Seq > other!.ReadSeq) && _notified.Add(deliver.ConversationId))
                {
                    elsewhere = new ActivityElsewhere(deliver.ConversationId, known ? other!.Label : $"conversation {deliver.ConversationId}", "");
                }
            }
        }

        if (show)
        {
            await ResolveNamesAsync([deliver.SenderUserId], _stopping.Token).ConfigureAwait(false);
            _events.Writer.TryWrite(new MessageArrived(ToMessage(deliver)));
            try
            {
                await _client.MarkReadAsync(deliver.ConversationId, deliver.Seq, _stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WrenClientException or IOException or ObjectDisposedException or TimeoutException)
            {
                // The read cursor catches up with the next message shown.
            }
        }
        else if (elsewhere is not null)
        {
            await ResolveNamesAsync([deliver.SenderUserId], _stopping.Token).ConfigureAwait(false);
            _events.Writer.TryWrite(elsewhere with { Sender = Name(deliver.SenderUserId) });
        }
    }

    /// <summary>
    /// A receipt is worth showing once per reader when it covers this user's latest message in the open conversation
    /// (a member reading their own messages, or reading again, is noise).
    /// </summary>
    private bool ReadsMyLatest(ReadReceipt receipt)
    {
        lock (_lock)
        {
            if (_current?.Id != receipt.ConversationId || _myLast == 0 || receipt.Seq < _myLast
                || (_receiptShown.TryGetValue(receipt.UserId, out var shown) && shown >= _myLast))
            {
                return false;
            }

            _receiptShown[receipt.UserId] = _myLast;
            return true;
        }
    }

    private ChatMessage ToMessage(Deliver entry) =>
        new(entry.ConversationId, entry.Seq, entry.SenderUserId, Name(entry.SenderUserId), entry.SenderUserId == Me.UserId, entry.ServerTimeMs, MessageText.Decode(entry));

    private string Name(ulong userId)
    {
        lock (_lock)
        {
            return _names.TryGetValue(userId, out var name) ? name : "#" + userId;
        }
    }

    private async Task ResolveNamesAsync(IEnumerable<ulong> ids, CancellationToken cancellationToken)
    {
        List<ulong> missing;
        lock (_lock)
        {
            missing = [.. ids.Where(id => id != 0 && !_names.ContainsKey(id)).Distinct()];
        }

        if (missing.Count == 0)
        {
            return;
        }

        var names = await Users.NamesAsync(_client, missing, cancellationToken).ConfigureAwait(false);
        lock (_lock)
        {
            foreach (var (id, name) in names)
            {
                _names[id] = name;
            }
        }
    }
}
