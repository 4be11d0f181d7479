using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Wren.Protocol;
using Wren.Protocol.Messages;

namespace Wren.Client;

/// <summary>Connection management: connect, handshake, read loop, ordering and reconnect.</summary>
public sealed partial class WrenClient
{
    /// <summary>
    /// The chain policy of a pinned connection: no trusted roots at all, so .NET's chain build before the validation
    /// callback does not load the system's root store (per connection, OpenSSL copies and sorts it: most of a TLS
    /// client's CPU in a login storm). The pin alone decides (<see cref="ValidateCertificate"/>). A new instance per
    /// connection: the handshake adds the peer's certificates to it.
    /// </summary>
    private static X509ChainPolicy PinnedChainPolicy() => new()
    {
        TrustMode = X509ChainTrustMode.CustomRootTrust,
        RevocationMode = X509RevocationMode.NoCheck,
        DisableCertificateDownloads = true,
    };

    private async Task ConnectOnceAsync(CancellationToken cancellationToken, bool reconnect = false)
    {
        var tcp = new TcpClient { NoDelay = true };
        Stream stream;

        // Connect and TLS get the request timeout too, so a server that accepts but never answers cannot hold a reconnect.
        using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        connectTimeout.CancelAfter(_options.RequestTimeout);
        try
        {
            await tcp.ConnectAsync(_options.Host, _options.Port, connectTimeout.Token).ConfigureAwait(false);
            stream = tcp.GetStream();
            if (_options.UseTls)
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                await tls.AuthenticateAsClientAsync(
                    new SslClientAuthenticationOptions
                    {
                        TargetHost = _options.TargetHost ?? _options.Host,
                        RemoteCertificateValidationCallback = ValidateCertificate,
                        CertificateChainPolicy = _options.PinnedFingerprint is null ? null : PinnedChainPolicy(),
                    },
                    connectTimeout.Token).ConfigureAwait(false);
                stream = tls;
            }
        }
        catch
        {
            tcp.Dispose();
            throw;
        }

        // The stream stays open when the reader completes: it is disposed in one place (DisposeStream).
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.RequestTimeout);
            await stream.WriteAsync(FrameWriter.ToArray(1, new Hello { ClientName = _options.ClientName, ClientVersion = "1" }), timeout.Token).ConfigureAwait(false);
            Welcome = Expect<Welcome>(await ReadOneAsync(reader, timeout.Token).ConfigureAwait(false));
            await stream.WriteAsync(FrameWriter.ToArray(2, BuildAuth()), timeout.Token).ConfigureAwait(false);
            Session = Expect<AuthOk>(await ReadOneAsync(reader, timeout.Token).ConfigureAwait(false));
            AdoptIssuedTokens(Session);
        }
        catch
        {
            await reader.CompleteAsync().ConfigureAwait(false);
            DisposeStream(stream);
            throw;
        }

        lock (_stateLock)
        {
            _stream = stream;
            _outbox = new Outbox(stream);
        }

        var readLoop = ReadLoopAsync(reader, stream);
        StartKeepAlive(stream, readLoop);
        if (reconnect)
        {
            // Counted before pending sends go out again, so a caller that saw them acknowledged sees the reconnect too.
            Interlocked.Increment(ref _reconnects);
        }

        _connected.TrySetResult();

        // Sends that were not acknowledged on the previous connection go out again with the same client message id.
        foreach (var pending in _sends.Values)
        {
            await TransmitSendAsync(pending).ConfigureAwait(false);
        }

        if (_options.SyncOnConnect)
        {
            if (!reconnect && !_options.WaitForCatchUp)
            {
                _supervisor = CatchUpThenSuperviseAsync(readLoop);
                return;
            }

            await SyncAllAsync(cancellationToken).ConfigureAwait(false);
        }

        _supervisor = SuperviseAsync(readLoop);
        ConnectionChanged?.Invoke(this, true);
    }

    /// <summary>The first catch-up when <see cref="WrenClientOptions.WaitForCatchUp"/> is off; then the usual supervision.</summary>
    private async Task CatchUpThenSuperviseAsync(Task readLoop)
    {
        try
        {
            await SyncAllAsync(_disposing.Token).ConfigureAwait(false);
            ConnectionChanged?.Invoke(this, true);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or SocketException or WrenClientException)
        {
            // The catch-up did not complete on this connection: closing it hands over to the supervisor, which
            // reconnects and catches up again (or ends Events when reconnecting is off).
            CloseStream();
        }

        await SuperviseAsync(readLoop).ConfigureAwait(false);
    }

    private bool ValidateCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (_options.PinnedFingerprint is { } pinned)
        {
            if (certificate is null)
            {
                return false;
            }

            string expected = pinned.Replace(":", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal);
            string actual = Convert.ToHexString(SHA256.HashData(certificate.GetRawCertData()));
            return string.Equals(expected, actual, StringComparison.OrdinalIgnoreCase);
        }

        return errors == SslPolicyErrors.None;
    }

    private static T Expect<T>(IMessage message)
        where T : IMessage => message switch
        {
            T typed => typed,
            Error error => throw new WrenClientException(error.Code, error.Message, error.RetryAfterMs),
            _ => throw new WrenClientException(ErrorCode.ProtocolError, $"expected {typeof(T).Name}, got {message.Type}"),
        };

    private static async Task<IMessage> ReadOneAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (TryParseOne(ref buffer, out var message))
            {
                reader.AdvanceTo(buffer.Start);
                return message!;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                throw WrenClientException.ConnectionFailure("connection closed during the handshake");
            }
        }
    }

    private static bool TryParseOne(ref ReadOnlySequence<byte> buffer, out IMessage? message)
    {
        var reader = new SequenceReader<byte>(buffer);
        var status = FrameReader.TryRead(ref reader, int.MaxValue, out var frame, out _);
        message = null;
        if (status != FrameStatus.Complete)
        {
            return false;
        }

        var decoded = MessageCodec.TryDecode(frame, ProtocolLimits.Default, out message);
        buffer = buffer.Slice(reader.Position);
        if (!decoded.IsSuccess)
        {
            throw new WrenClientException(ErrorCode.MalformedBody, $"server sent an undecodable {frame.Header.MessageType}: {decoded.Error}");
        }

        return true;
    }

    private async Task ReadLoopAsync(PipeReader reader, Stream stream)
    {
        await Task.Yield();
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(_disposing.Token).ConfigureAwait(false);
                MarkReceived();
                var buffer = result.Buffer;
                var sequence = new SequenceReader<byte>(buffer);
                while (FrameReader.TryRead(ref sequence, int.MaxValue, out var frame, out _) == FrameStatus.Complete)
                {
                    if (Decode(frame) is { } message)
                    {
                        _inbox.Add((frame.Header.RequestId, message));
                    }
                }

                // Decoded messages own their bytes, so the buffer is released before they are handled.
                reader.AdvanceTo(sequence.Position, buffer.End);
                try
                {
                    foreach (var (requestId, message) in _inbox)
                    {
                        Dispatch(requestId, message);
                    }
                }
                finally
                {
                    _inbox.Clear();
                    PublishDeliveries();
                }

                ScheduleAcks();
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or SocketException or WrenClientException or InvalidOperationException)
        {
            // Connection lost; the supervisor decides whether to reconnect.
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
            DisposeStream(stream);
            lock (_stateLock)
            {
                if (ReferenceEquals(_stream, stream))
                {
                    _stream = null;
                    _outbox = null;
                }
            }

            // Requests waiting on this connection fail now; sends stay pending for the next connection.
            foreach (var request in _requests)
            {
                request.Value.TrySetException(WrenClientException.ConnectionFailure("connection lost"));
            }
        }
    }

    /// <summary>Decodes a frame; Deliver takes the direct path when it is in the server's layout. Null when undecodable.</summary>
    private static IMessage? Decode(in Frame frame)
    {
        if (frame.Header.MessageType == MessageType.Deliver && DeliverReader.TryRead(frame.Body, ProtocolLimits.Default, out var deliver))
        {
            return deliver;
        }

        return MessageCodec.TryDecode(frame, ProtocolLimits.Default, out var message).IsSuccess ? message : null;
    }

    private void Dispatch(uint requestId, IMessage message)
    {
        if (message is Deliver deliver)
        {
            OnDeliver(deliver);
            return;
        }

        // Deliveries ahead of this message reach the cursor store and Events first, so an answer (a SyncDone that
        // leads to the next SyncAll, for instance) never overtakes them.
        PublishDeliveries();
        switch (message)
        {
            case EmptyMessage { Type: MessageType.Ping }:
                _ = WriteAsync(requestId, EmptyMessage.Pong);
                return;
        }

        if (requestId != 0 && _requests.TryGetValue(requestId, out var completion))
        {
            completion.TrySetResult(message);
            return;
        }

        if (message is SyncDone && requestId != 0)
        {
            OnFillDone(requestId);
            return;
        }

        _events.Writer.TryWrite(message);
    }

    private void OnDeliver(Deliver deliver)
    {
        if (!_order.TryGetValue(deliver.ConversationId, out var order))
        {
            order = new ConversationOrder();
            if (_options.CursorStore.TryGet(deliver.ConversationId, out var cursor))
            {
                order.Known = true;
                order.Epoch = cursor.Epoch;
                order.Last = cursor.Seq;
            }

            _order[deliver.ConversationId] = order;
        }

        if (!order.Known || (order.Epoch != 0 && order.Epoch != deliver.Epoch))
        {
            // First sight of the conversation on this device (baseline), or a rebuilt log (restart from its first entry).
            bool rebuilt = order.Known;
            order.Known = true;
            order.Epoch = deliver.Epoch;
            order.Last = rebuilt ? 0 : deliver.Seq - 1;
            order.Held.Clear();
        }

        order.Epoch = deliver.Epoch;
        if (deliver.Seq <= order.Last)
        {
            return;
        }

        if (deliver.Seq > order.Last + 1)
        {
            order.Held[deliver.Seq] = deliver;
            RequestFill(deliver.ConversationId, order);
            return;
        }

        Emit(deliver, order);
        while (order.Held.Remove(order.Last + 1, out var next))
        {
            Emit(next, order);
        }
    }

    private void Emit(Deliver deliver, ConversationOrder order)
    {
        order.Last = deliver.Seq;
        if (!order.Moved)
        {
            order.Moved = true;
            _moved.Add((deliver.ConversationId, order));
        }

        _ready.Add(deliver);
    }

    /// <summary>
    /// Hands the deliveries ordered since the last call to the application: first each conversation's new position to
    /// the cursor store (and the ack queue), then the messages to <see cref="Events"/> in order. The cursor store thus
    /// holds a position before the application can see the message at it, as when it is written per message, with one
    /// write per conversation per read instead of one per message.
    /// </summary>
    private void PublishDeliveries()
    {
        if (_ready.Count == 0)
        {
            return;
        }

        foreach (var (conversationId, order) in _moved)
        {
            order.Moved = false;
            _options.CursorStore.Set(conversationId, new ClientCursor(order.Epoch, order.Last));
        }

        if (_options.AutoAck)
        {
            lock (_ackLock)
            {
                foreach (var (conversationId, order) in _moved)
                {
                    _toAck[conversationId] = order.Last;
                }
            }
        }

        _moved.Clear();
        foreach (var deliver in _ready)
        {
            _events.Writer.TryWrite(deliver);
        }

        _ready.Clear();
    }

    private readonly Dictionary<uint, ulong> _fills = [];

    private void RequestFill(ulong conversationId, ConversationOrder order)
    {
        if (order.FillInFlight)
        {
            return;
        }

        order.FillInFlight = true;
        Interlocked.Increment(ref _gapFills);
        uint id = NextRequestId();
        _fills[id] = conversationId;
        _ = WriteAsync(id, new SyncConversation { ConversationId = conversationId, AfterSeq = order.Last, Epoch = order.Epoch })
            .ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
    }

    private void OnFillDone(uint requestId)
    {
        if (_fills.Remove(requestId, out var conversationId) && _order.TryGetValue(conversationId, out var order))
        {
            order.FillInFlight = false;
            if (order.Held.Count > 0)
            {
                RequestFill(conversationId, order);
            }
        }
    }

    /// <summary>Starts the ack writer when acks are waiting and it is not running.</summary>
    private void ScheduleAcks()
    {
        lock (_ackLock)
        {
            if (_ackWriterRunning || _toAck.Count == 0)
            {
                return;
            }

            _ackWriterRunning = true;
        }

        _ = WriteAcksAsync();
    }

    /// <summary>
    /// Writes the waiting acks <see cref="WrenClientOptions.AckDelay"/> after the first of them was queued, so that the
    /// positions of everything delivered meanwhile go together in one Ack frame: at most one Ack write per delay. The
    /// read loop never waits for it.
    /// </summary>
    private async Task WriteAcksAsync()
    {
        try
        {
            while (true)
            {
                if (_options.AckDelay > TimeSpan.Zero)
                {
                    await Task.Delay(_options.AckDelay, _disposing.Token).ConfigureAwait(false);
                }

                AckItem[] items;
                lock (_ackLock)
                {
                    items = TakeAcksLocked();
                }

                await WriteAckItemsAsync(items).ConfigureAwait(false);
                lock (_ackLock)
                {
                    // Nothing new meanwhile: stop rather than keep a timer running on a quiet connection; the next
                    // delivery starts the writer again.
                    if (_toAck.Count == 0)
                    {
                        _ackWriterRunning = false;
                        return;
                    }
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or SocketException or WrenClientException or InvalidOperationException)
        {
            // Connection lost or client disposed: the positions are in the cursor store, and a later ack covers them.
            lock (_ackLock)
            {
                _ackWriterRunning = false;
            }
        }
    }

    /// <summary>The waiting ack positions, removed from the waiting set. Caller holds <c>_ackLock</c>.</summary>
    private AckItem[] TakeAcksLocked()
    {
        AckItem[] items = [.. _toAck.Select(a => new AckItem { ConversationId = a.Key, Seq = a.Value })];
        _toAck.Clear();
        return items;
    }

    /// <summary>Writes ack positions, as many Ack frames as the server's list limit needs.</summary>
    private async Task WriteAckItemsAsync(AckItem[] items)
    {
        int perFrame = Welcome?.Limits.MaxListItems is > 0 and var max ? (int)max : 1000;
        for (int start = 0; start < items.Length; start += perFrame)
        {
            await WriteAsync(0, new Ack { Items = items[start..Math.Min(items.Length, start + perFrame)] }).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Writes the positions still waiting for the ack interval before the connection closes, so the server's delivered
    /// cursor is current when the client goes away (best effort: a lost connection leaves them in the cursor store).
    /// </summary>
    private async Task FlushAcksAsync()
    {
        AckItem[] items;
        lock (_ackLock)
        {
            items = TakeAcksLocked();
        }

        if (items.Length == 0 || !IsConnected)
        {
            return;
        }

        try
        {
            await WriteAckItemsAsync(items).WaitAsync(_options.RequestTimeout).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or TimeoutException or SocketException or WrenClientException or InvalidOperationException)
        {
            // The connection is going or gone; the next connect's catch-up starts from the cursor store.
        }
    }

    private async Task SuperviseAsync(Task readLoop)
    {
        await readLoop.ConfigureAwait(false);
        if (!_disposing.IsCancellationRequested)
        {
            ConnectionChanged?.Invoke(this, false);
        }

        int attempt = 0;
        while (!_disposing.IsCancellationRequested)
        {
            lock (_stateLock)
            {
                _stream = null;
                _outbox = null;
                _connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _order.Clear();
                _fills.Clear();
            }

            foreach (var request in _requests)
            {
                request.Value.TrySetException(WrenClientException.ConnectionFailure("connection lost"));
            }

            if (!_options.AutoReconnect)
            {
                // Nothing more will arrive: readers of Events see the end with the reason, and requests fail at once.
                var lost = WrenClientException.ConnectionFailure("connection lost");
                _events.Writer.TryComplete(lost);
                _connected.TrySetException(lost);
                return;
            }

            double ceiling = Math.Min(_options.MaxReconnectDelay.TotalMilliseconds, _options.MinReconnectDelay.TotalMilliseconds * Math.Pow(2, attempt));
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * ceiling), _disposing.Token).ConfigureAwait(false);
                await ConnectOnceAsync(_disposing.Token, reconnect: true).ConfigureAwait(false);
                return;
            }
            catch (WrenClientException ex) when (ex.Code is ErrorCode.AuthFailed or ErrorCode.SessionRevoked)
            {
                _events.Writer.TryComplete(ex);
                return;
            }
            catch (Exception ex) when (ex is IOException or SocketException or WrenClientException or AuthenticationException or OperationCanceledException or ObjectDisposedException)
            {
                attempt = Math.Min(attempt + 1, 16);
            }
        }
    }
}
