namespace Wren.Bench.Core;

/// <summary>Called for every delivery the workload counts, with the message body as received.</summary>
public delegate void DeliveryHandler(ReadOnlySpan<byte> body);

/// <summary>
/// A server under test, connected and provisioned for one rate-driven workload (W1 or W2): a number of senders and the
/// connections that must receive each message. The open-loop engine drives it.
/// </summary>
public interface IMessagingSession : IAsyncDisposable
{
    /// <summary>Senders; message g is sent by sender g mod <see cref="Senders"/>.</summary>
    int Senders { get; }

    /// <summary>Counted deliveries each message must reach (e.g. 3 devices in W1, the receiving members in W2).</summary>
    int ReceiversPerMessage { get; }

    /// <summary>Open connections (senders and receivers).</summary>
    int Connections { get; }

    /// <summary>What an acknowledgement means here, e.g. "fsync before ack (sync_interval: always)".</summary>
    string Durability { get; }

    /// <summary>Starts the receivers; each counted delivery calls <paramref name="onDelivery"/>.</summary>
    void StartReceiving(DeliveryHandler onDelivery, CancellationToken cancellationToken);

    /// <summary>
    /// Reconnects the session's clients made since it connected (a server that cuts off slow consumers makes them
    /// reconnect and catch up); zero where the client library does not count them.
    /// </summary>
    long Reconnects => 0;

    /// <summary>Sends one message from <paramref name="sender"/>; completes when the server acknowledges it.</summary>
    /// <remarks>The body buffer belongs to this message alone and may be kept until the send completes.</remarks>
    Task SendAsync(int sender, ReadOnlyMemory<byte> body);
}
