using System.Text;

namespace Wren.Storage.Tests;

/// <summary>A store in its own temporary directory, deleted on dispose.</summary>
internal sealed class TestStore : IAsyncDisposable
{
    private TestStore(string directory, StoreOptions options)
    {
        Directory = directory;
        Options = options;
        Store = WrenStore.Open(options);
    }

    public string Directory { get; }

    public StoreOptions Options { get; }

    public WrenStore Store { get; private set; }

    public static TestStore Create(Action<StoreOptions>? configure = null)
    {
        var directory = NewDirectory();
        var options = new StoreOptions { DataDirectory = directory };
        configure?.Invoke(options);
        return new TestStore(directory, options);
    }

    public static string NewDirectory() => Path.Combine(Path.GetTempPath(), "wren-storage-tests", Guid.NewGuid().ToString("N"));

    /// <summary>Closes the store cleanly and opens it again on the same directory and options.</summary>
    public async Task ReopenAsync(Action<StoreOptions>? reconfigure = null)
    {
        await Store.DisposeAsync();
        reconfigure?.Invoke(Options);
        Store = WrenStore.Open(Options);
    }

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        DeleteDirectory(Directory);
    }

    public static void DeleteDirectory(string directory)
    {
        try
        {
            if (System.IO.Directory.Exists(directory))
            {
                System.IO.Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
            // Best effort: a leftover temp directory does not affect other tests (each uses a new one).
        }
    }
}

/// <summary>Request builders.</summary>
internal static class Requests
{
    public static AppendRequest Text(ulong conversationId, ulong sender, string clientMsgId, string body, uint device = 1, ushort kind = 1) =>
        new(conversationId, sender, device, clientMsgId, kind, Encoding.UTF8.GetBytes(body));

    public static string BodyText(this LogEntry entry) => Encoding.UTF8.GetString(entry.Body.Span);
}

/// <summary>A clock that moves only when told; timers still run on real time.</summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private long _ticks = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero).UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}

/// <summary>Waits on conditions with a timeout instead of sleeping.</summary>
internal static class Eventually
{
    public static async Task TrueAsync(Func<bool> condition, string what, int timeoutMs = 5000)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline)
            {
                Assert.Fail("Timed out waiting for: " + what);
            }

            await Task.Delay(10);
        }
    }
}
