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

        var reader = PipeReader.Create(stream);
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
            stream.Dispose();
            throw;
        }

        lock (_stateLock)
        {
            _stream = stream;
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
            await SyncAllAsync(cancellationToken).ConfigureAwait(false);
        }

        _supervisor = SuperviseAsync(readLoop);
        ConnectionChanged?.Invoke(this, true);
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
                var frames = new List<(uint RequestId, IMessage Message)>();
                while (true)
                {
                    var slice = buffer;
                    var sequence = new SequenceReader<byte>(slice);
                    if (FrameReader.TryRead(ref sequence, int.MaxValue, out var frame, out _) != FrameStatus.Complete)
                    {
                        break;
                    }

                    var decoded = MessageCodec.TryDecode(frame, ProtocolLimits.Default, out var message);
                    buffer = buffer.Slice(sequence.Position);
                    if (decoded.IsSuccess)
                    {
                        frames.Add((frame.Header.RequestId, message!));
                    }
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
                foreach (var (requestId, message) in frames)
                {
                    Dispatch(requestId, message);
                }

                await FlushAcksAsync().ConfigureAwait(false);
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
            stream.Dispose();
            lock (_stateLock)
            {
                if (ReferenceEquals(_stream, stream))
                {
                    _stream = null;
                }
            }

            // Requests waiting on this connection fail now; sends stay pending for the next connection.
            foreach (var request in _requests)
            {
                request.Value.TrySetException(WrenClientException.ConnectionFailure("connection lost"));
            }
        }
    }

    private void Dispatch(uint requestId, IMessage message)
    {
        switch (message)
        {
            case Deliver deliver:
                OnDeliver(deliver);
                return;
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
        _options.CursorStore.Set(deliver.ConversationId, new ClientCursor(order.Epoch, order.Last));
        _toAck[deliver.ConversationId] = order.Last;
        _events.Writer.TryWrite(deliver);
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

    private async Task FlushAcksAsync()
    {
        if (!_options.AutoAck || _toAck.Count == 0)
        {
            return;
        }

        var ack = new Ack { Items = [.. _toAck.Select(a => new AckItem { ConversationId = a.Key, Seq = a.Value })] };
        _toAck.Clear();
        await WriteAsync(0, ack).ConfigureAwait(false);
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
