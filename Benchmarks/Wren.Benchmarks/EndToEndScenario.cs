using Microsoft.Extensions.Logging;
using Wren.Broker;
using Wren.Client;
using Wren.Storage;

namespace Wren.Benchmarks;

/// <summary>
/// A broker in this process (TLS on 127.0.0.1, a fresh temp directory) and, per pair, users A and B with two connected
/// devices each and their direct conversation. Device A1 sends; B1, B2 and A2 are the measured receivers.
/// </summary>
public sealed class EndToEndScenario : IAsyncDisposable
{
    private readonly string _directory;

    private EndToEndScenario(WrenServer server, string directory, EndToEndLogCounter log, IReadOnlyList<EndToEndPair> pairs)
    {
        Server = server;
        _directory = directory;
        Log = log;
        Pairs = pairs;
    }

    public WrenServer Server { get; }

    /// <summary>Counts the broker's warnings and errors (and prints the first few).</summary>
    public EndToEndLogCounter Log { get; }

    public IReadOnlyList<EndToEndPair> Pairs { get; }

    public static async Task<EndToEndScenario> StartAsync(int pairs, DurabilityMode durability, int sendLimit, bool autoAck)
    {
        string directory = Path.Combine(Path.GetTempPath(), "wren-e2e-" + Guid.NewGuid().ToString("N"));
        var options = new WrenOptions { DataDirectory = directory, Host = "127.0.0.1", Port = 0, Durability = durability };
        options.Limits.SendsPerSecond = sendLimit;
        options.Limits.SendsPerUserPerSecond = sendLimit * 2;
        var log = new EndToEndLogCounter();
        var server = await WrenServer.StartAsync(options, logging =>
        {
            logging.ClearProviders();
            logging.SetMinimumLevel(LogLevel.Warning);
            logging.AddProvider(log);
        });

        var created = new List<EndToEndPair>(pairs);
        try
        {
            for (int i = 0; i < pairs; i++)
            {
                created.Add(await ConnectPairAsync(server, i, autoAck));
            }
        }
        catch
        {
            foreach (var pair in created)
            {
                await pair.DisposeAsync();
            }

            await server.DisposeAsync();
            throw;
        }

        log.Start();
        return new EndToEndScenario(server, directory, log, created);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var pair in Pairs)
        {
            await pair.DisposeAsync();
        }

        await Server.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory does not affect the result.
        }
    }

    private static async Task<EndToEndPair> ConnectPairAsync(WrenServer server, int index, bool autoAck)
    {
        string a = $"e2e-a{index}";
        string b = $"e2e-b{index}";
        var tokens = new[]
        {
            await server.CreateUserAsync(a, "a1"),
            await server.AddDeviceAsync(a, "a2"),
            await server.CreateUserAsync(b, "b1"),
            await server.AddDeviceAsync(b, "b2"),
        };

        var clients = new List<WrenClient>(tokens.Length);
        try
        {
            foreach (var token in tokens)
            {
                clients.Add(await WrenClient.ConnectAsync(new WrenClientOptions
                {
                    Host = "127.0.0.1",
                    Port = server.Endpoint.Port,
                    Token = token.Token,
                    PinnedFingerprint = server.Fingerprint,
                    AutoAck = autoAck,
                }));
            }

            var conversation = await clients[0].OpenDirectAsync(tokens[2].User.UserId);
            return new EndToEndPair(index, conversation.ConversationId, clients[0], clients[1], clients[2], clients[3]);
        }
        catch
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }

            throw;
        }
    }
}

/// <summary>One pair's four devices and their direct conversation.</summary>
public sealed record EndToEndPair(int Index, ulong ConversationId, WrenClient SenderA1, WrenClient A2, WrenClient B1, WrenClient B2)
    : IAsyncDisposable
{
    /// <summary>The devices that must receive each message: the recipient's two and the sender's other one.</summary>
    public IReadOnlyList<WrenClient> Receivers { get; } = [B1, B2, A2];

    public async ValueTask DisposeAsync()
    {
        await SenderA1.DisposeAsync();
        await A2.DisposeAsync();
        await B1.DisposeAsync();
        await B2.DisposeAsync();
    }
}

/// <summary>
/// A logger provider that counts the broker's warnings and errors once <see cref="Start"/> was called (the set-up's
/// own, such as the bootstrap administrator notice, are not counted) and prints the first few to stderr.
/// </summary>
public sealed class EndToEndLogCounter : ILoggerProvider
{
    private const int Printed = 5;
    private int _counting;
    private int _warnings;
    private int _errors;

    public int Warnings => Volatile.Read(ref _warnings);

    public int Errors => Volatile.Read(ref _errors);

    public void Start() => Volatile.Write(ref _counting, 1);

    public ILogger CreateLogger(string categoryName) => new Counter(this, categoryName);

    public void Dispose()
    {
    }

    private void Count(LogLevel level, string category, string message)
    {
        if (Volatile.Read(ref _counting) == 0)
        {
            return;
        }

        int seen = level >= LogLevel.Error ? Interlocked.Increment(ref _errors) : Interlocked.Increment(ref _warnings);
        if (seen <= Printed)
        {
            Console.Error.WriteLine($"broker {level}: {category}: {message}");
        }
    }

    private sealed class Counter(EndToEndLogCounter owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner.Count(logLevel, category, formatter(state, exception));
            }
        }
    }
}
