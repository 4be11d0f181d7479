using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Wren.Broker;
using Wren.Broker.Core;
using Wren.Client;

namespace Wren.Cli.Tests;

/// <summary>
/// A real broker for one test, laid out like a fresh clone after <c>./run.sh</c>: a temp working directory whose
/// <c>data/</c> holds RocksDB, dev-cert.pfx and admin.token. TLS on 127.0.0.1 port 0. Disposing stops the broker,
/// deletes the directory, and fails the test if the broker logged an error.
/// </summary>
public sealed class CliBroker : IAsyncDisposable
{
    private CliBroker(WrenServer server, string root, LogCapture logs)
    {
        Server = server;
        Root = root;
        Logs = logs;
    }

    public WrenServer Server { get; }

    /// <summary>The working directory the CLI runs in (holds <c>data/</c>).</summary>
    public string Root { get; }

    public string DataDirectory => Path.Combine(Root, "data");

    public LogCapture Logs { get; }

    public int Port => Server.Endpoint.Port;

    public string Address => $"127.0.0.1:{Port}";

    public string Fingerprint => Server.Fingerprint!;

    public string AdminToken => File.ReadAllText(Path.Combine(DataDirectory, WrenServer.AdminTokenFile)).Trim();

    public static async Task<CliBroker> StartAsync(Action<WrenOptions>? configure = null)
    {
        string root = Path.Combine(Path.GetTempPath(), "wren-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        var options = new WrenOptions { DataDirectory = Path.Combine(root, "data"), Host = "127.0.0.1", Port = 0 };
        configure?.Invoke(options);
        var logs = new LogCapture();
        var server = await WrenServer.StartAsync(options, logging =>
        {
            logging.ClearProviders();
            logging.SetMinimumLevel(LogLevel.Debug);
            logging.AddProvider(logs);
            logging.AddFilter<LogCapture>(null, LogLevel.Debug);
        });
        return new CliBroker(server, root, logs);
    }

    /// <summary>Runs the CLI in this broker's working directory with WREN_SERVER pointing at it.</summary>
    public Task<CliResult> RunAsync(params string[] args) => RunWithAsync(null, null, args);

    /// <summary>Runs the CLI with standard input and extra environment variables.</summary>
    public Task<CliResult> RunWithAsync(TextReader? input, IDictionary<string, string>? environment, params string[] args) =>
        RunWithAsync(input, environment, null, default, args);

    /// <summary>Runs the CLI with standard input, extra environment variables, a live output writer and cancellation.</summary>
    public Task<CliResult> RunWithAsync(TextReader? input, IDictionary<string, string>? environment, ConcurrentWriter? output, CancellationToken cancellation, params string[] args)
    {
        var variables = new Dictionary<string, string> { ["WREN_SERVER"] = Address };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            variables[key] = value;
        }

        return Cli.RunAsync(args, variables, Root, input, output, cancellation);
    }

    public Task<IssuedToken> CreateUserAsync(string name, string device = "d1") => Server.CreateUserAsync(name, device);

    public Task<IssuedToken> AddDeviceAsync(string name, string device) => Server.AddDeviceAsync(name, device);

    public Task<WrenClient> ConnectAsync(string token) => WrenClient.ConnectAsync(new WrenClientOptions
    {
        Host = "127.0.0.1",
        Port = Port,
        Token = token,
        PinnedFingerprint = Fingerprint,
        RequestTimeout = TimeSpan.FromSeconds(20),
    });

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory does not affect the result.
        }

        var errors = Logs.Entries.Where(e => e.Level >= LogLevel.Error).ToList();
        Assert.True(errors.Count == 0, "broker logged errors:\n" + string.Join("\n", errors.Select(e => $"{e.Category}: {e.Message} {e.Exception}")));
    }
}

/// <summary>What one CLI invocation printed and returned.</summary>
public sealed record CliResult(int ExitCode, string Out, string Err)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout ---\n{Out}\n--- stderr ---\n{Err}";

    /// <summary>Asserts success, showing everything the command printed when it did not succeed.</summary>
    public CliResult Succeeded()
    {
        Assert.True(ExitCode == 0, ToString());
        return this;
    }

    /// <summary>Asserts a clean failure: the exit code, and exactly one "wren: ..." line on stderr with no stack trace.</summary>
    public string FailedWith(int exitCode)
    {
        Assert.True(ExitCode == exitCode, $"expected exit {exitCode}; " + ToString());
        string[] lines = Err.Trim().Split('\n');
        Assert.True(lines.Length == 1, "expected one line on stderr; " + ToString());
        Assert.StartsWith("wren: ", lines[0]);
        Assert.DoesNotContain("Exception", Err);
        Assert.DoesNotContain("   at ", Err);
        return lines[0];
    }
}

/// <summary>Runs the CLI in-process through its entry point with captured, non-terminal output.</summary>
public static class Cli
{
    public static async Task<CliResult> RunAsync(string[] args, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null, TextReader? input = null, ConcurrentWriter? output = null, CancellationToken cancellation = default)
    {
        output ??= new ConcurrentWriter();
        var error = new ConcurrentWriter();
        int code = await WrenCli.RunAsync(args, new CliHost
        {
            Out = output,
            Error = error,
            In = input ?? TextReader.Null,
            Environment = environment ?? new Dictionary<string, string>(),
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
            Cancellation = cancellation,
        });
        return new CliResult(code, output.ToString(), error.ToString());
    }

    /// <summary>A loopback port with nothing listening: bound by the OS, then released.</summary>
    public static int ClosedPort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
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
