using System.Text;

namespace Wren.Storage.CrashHost;

/// <summary>
/// Appends from several tasks to one conversation each and prints <c>ACK conv seq clientMsgId</c> per acknowledged
/// append. Usage: <c>Wren.Storage.CrashHost DATA_DIR durable|ack-on-queue [WRITERS]</c>.
/// </summary>
/// <remarks>
/// <c>durable</c> prints an ack only after <see cref="IMessageLog.AppendAsync(AppendRequest, CancellationToken)"/> completes, as the broker does.
/// <c>ack-on-queue</c> is the negative control: it prints an ack as soon as the append is queued (with the seq it
/// expects) and stalls the writer after a few batches, so acknowledged appends that were never written exist when
/// the test kills the process.
/// </remarks>
public static class Program
{
    /// <summary>The body every append carries; the checker recomputes it from the ack.</summary>
    public static string Body(ulong conversationId, string clientMsgId) =>
        $"body|{conversationId}|{clientMsgId}|" + new string('x', 64);

    public static async Task<int> Main(string[] args)
    {
        if (args.Length < 2)
        {
            await Console.Error.WriteLineAsync("usage: Wren.Storage.CrashHost DATA_DIR durable|ack-on-queue [WRITERS]");
            return 2;
        }

        var ackOnQueue = args[1] == "ack-on-queue";
        var writers = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 4;
        var store = WrenStore.Open(new StoreOptions { DataDirectory = args[0], Durability = DurabilityMode.Sync });
        var conversations = new ulong[writers];
        for (var w = 0; w < writers; w++)
        {
            conversations[w] = (await store.CreateGroupAsync(1, "crash-" + w, [])).ConversationId;
        }

        if (ackOnQueue)
        {
            var batches = 0;
            using var never = new ManualResetEventSlim(false);
            store.BeforeWrite = () =>
            {
                if (Interlocked.Increment(ref batches) > 3)
                {
                    never.Wait();
                }
            };
            Console.Out.WriteLine("READY");
            await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(() => QueueAndAck(store, conversations[w], w))));
            await Task.Delay(Timeout.Infinite);
        }

        Console.Out.WriteLine("READY");
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(() => AppendAndAckAsync(store, conversations[w], w))));
        return 0;
    }

    private static async Task AppendAndAckAsync(WrenStore store, ulong conversationId, int writer)
    {
        for (var i = 1; ; i++)
        {
            var clientMsgId = $"w{writer}-{i}";
            var result = await store.AppendAsync(new AppendRequest(
                conversationId, 1, (uint)writer, clientMsgId, 1, Encoding.UTF8.GetBytes(Body(conversationId, clientMsgId))));
            if (result.Status != AppendStatus.Appended)
            {
                Console.Out.WriteLine($"ERR {conversationId} {result.Status} {clientMsgId}");
                continue;
            }

            Console.Out.WriteLine($"ACK {conversationId} {result.Entry!.Seq} {clientMsgId}");
        }
    }

    private static void QueueAndAck(WrenStore store, ulong conversationId, int writer)
    {
        // Each writer owns its conversation, so the n-th queued append is expected to get seq n.
        for (var i = 1; i <= 5000; i++)
        {
            var clientMsgId = $"w{writer}-{i}";
            _ = store.AppendAsync(new AppendRequest(
                conversationId, 1, (uint)writer, clientMsgId, 1, Encoding.UTF8.GetBytes(Body(conversationId, clientMsgId)))).AsTask();
            Console.Out.WriteLine($"ACK {conversationId} {i} {clientMsgId}");
        }
    }
}
