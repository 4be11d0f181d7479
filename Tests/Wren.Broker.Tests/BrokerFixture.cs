using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Wren.Broker.Core;
using Wren.Client;

namespace Wren.Broker.Tests;

/// <summary>
/// A real broker for one test: TLS on 127.0.0.1 port 0, RocksDB in a temp directory, logs captured. Disposing it stops
/// the broker, deletes the directory, and fails the test if the server logged an error.
/// </summary>
public sealed class TestBroker : IAsyncDisposable
{
    private TestBroker(WrenServer server, string directory, LogCapture logs)
    {
        Server = server;
        Directory = directory;
        Logs = logs;
    }

    public WrenServer Server { get; }

    public string Directory { get; }

    public LogCapture Logs { get; }

    public int Port => Server.Endpoint.Port;

    public static async Task<TestBroker> StartAsync(Action<WrenOptions>? configure = null, TimeProvider? time = null)
    {
        string directory = Path.Combine(Path.GetTempPath(), "wren-test-" + Guid.NewGuid().ToString("N"));
        var options = new WrenOptions { DataDirectory = directory, Host = "127.0.0.1", Port = 0 };
        configure?.Invoke(options);
        var logs = new LogCapture();
        var server = await WrenServer.StartAsync(options, logging =>
        {
            logging.ClearProviders();
            logging.SetMinimumLevel(LogLevel.Debug);
            logging.AddProvider(logs);

            // Provider-specific rule: overrides the Information default from appsettings.json for the capture.
            logging.AddFilter<LogCapture>(null, LogLevel.Debug);
        }, time: time);
        return new TestBroker(server, directory, logs);
    }

    public Task<IssuedToken> CreateUserAsync(string name, string device = "d1") => Server.CreateUserAsync(name, device);

    public Task<IssuedToken> AddDeviceAsync(string name, string device) => Server.AddDeviceAsync(name, device);

    public WrenClientOptions ClientOptions(string token) => new()
    {
        Host = "127.0.0.1",
        Port = Port,
        Token = token,
        PinnedFingerprint = Server.Fingerprint,
        RequestTimeout = TimeSpan.FromSeconds(20),
        MinReconnectDelay = TimeSpan.FromMilliseconds(20),
        MaxReconnectDelay = TimeSpan.FromMilliseconds(500),
    };

    public Task<WrenClient> ConnectAsync(string token, Action<WrenClientOptions>? configure = null)
    {
        var options = ClientOptions(token);
        configure?.Invoke(options);
        return WrenClient.ConnectAsync(options);
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory does not affect the result.
        }

        var errors = Logs.Entries.Where(e => e.Level >= LogLevel.Error).ToList();
        Assert.True(errors.Count == 0, "server logged errors:\n" + string.Join("\n", errors.Select(e => $"{e.Category}: {e.Message} {e.Exception}")));
    }
}

/// <summary>Collects every log entry the broker writes.</summary>
public sealed class LogCapture : ILoggerProvider
{
    public ConcurrentQueue<LogEntry> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    public sealed record LogEntry(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception);

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Entries.Enqueue(new LogEntry(category, logLevel, eventId, formatter(state, exception), exception));
    }
}
