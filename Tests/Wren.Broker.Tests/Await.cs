using Wren.Client;
using Wren.Protocol;
using Wren.Protocol.Messages;

namespace Wren.Broker.Tests;

/// <summary>Waiting helpers: conditions with timeouts, never sleeps.</summary>
public static class Await
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    /// <summary>Reads events until <paramref name="count"/> Deliver frames arrived; other events are skipped.</summary>
    public static async Task<List<Deliver>> DeliveriesAsync(WrenClient client, int count, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? Timeout);
        var received = new List<Deliver>();
        while (received.Count < count)
        {
            var message = await client.Events.ReadAsync(cts.Token);
            if (message is Deliver deliver)
            {
                received.Add(deliver);
            }
        }

        return received;
    }

    /// <summary>Reads events until one of type <typeparamref name="T"/> matches.</summary>
    public static async Task<T> EventAsync<T>(WrenClient client, Func<T, bool>? match = null)
        where T : IMessage
    {
        using var cts = new CancellationTokenSource(Timeout);
        while (true)
        {
            var message = await client.Events.ReadAsync(cts.Token);
            if (message is T typed && (match is null || match(typed)))
            {
                return typed;
            }
        }
    }

    /// <summary>Reads a value until <paramref name="done"/> holds for it; the timeout message describes the last value read.</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> read, Func<T, bool> done, Func<T, string> describe)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("timed out waiting for " + describe(value));
            }

            await Task.Delay(10);
        }
    }

    /// <summary>Polls a condition until it holds.</summary>
    public static async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("timed out waiting for " + what);
            }

            await Task.Delay(10);
        }
    }
}
