using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Wren.Client;

namespace Wren.Bench.Targets;

/// <summary>
/// The Wren broker as a separate process on a fresh temp data directory (TLS on 127.0.0.1, Sync durability), plus an
/// administrator connection to provision users and device tokens over the wire.
/// </summary>
/// <remarks>
/// The benchmark switches off the send limits (<c>Limits:SendsPerSecond=0</c> per device and
/// <c>Limits:SendsPerUserPerSecond=0</c> per user: the defaults would throttle the senders, which send rate / senders
/// each) and raises the per-address connection limit to the total (every benchmark connection comes from 127.0.0.1).
/// Everything else is the broker's default.
/// </remarks>
public sealed class WrenBroker : IAsyncDisposable
{
    private readonly ChildProcess _process;
    private readonly string _directory;

    private WrenBroker(ChildProcess process, string directory, int port, string fingerprint, WrenClient admin)
    {
        _process = process;
        _directory = directory;
        Port = port;
        Fingerprint = fingerprint;
        Admin = admin;
    }

    /// <summary>The broker's port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>The broker's certificate fingerprint (clients pin it).</summary>
    public string Fingerprint { get; }

    /// <summary>The broker's process id.</summary>
    public int Pid => _process.Pid;

    /// <summary>The administrator connection.</summary>
    public WrenClient Admin { get; }

    /// <summary>Durability the broker runs with.</summary>
    public const string Durability = "fsync before ack (Sync, group commit)";

    /// <summary>
    /// True when <c>WREN_BENCH_PLAINTEXT=1</c>: the broker runs with <c>--plaintext</c> and clients connect without TLS,
    /// to separate TLS's share from the rest when comparing with peers that run plain TCP. Default off.
    /// </summary>
    public static bool Plaintext { get; } = Environment.GetEnvironmentVariable("WREN_BENCH_PLAINTEXT") == "1";

    /// <summary>Starts the broker from <paramref name="brokerDll"/> and connects as administrator.</summary>
    public static async Task<WrenBroker> StartAsync(string brokerDll, int maxConnections = 16_000)
    {
        string directory = Path.Combine(Path.GetTempPath(), "wren-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        int port = FreePort();
        string fingerprint = "";
        const string Prefix = "wren: certificate SHA-256 fingerprint ";
        string inv(int v) => v.ToString(CultureInfo.InvariantCulture);
        // WREN_BENCH_BROKER_LOG=FILE keeps the broker's output, at Information level (e.g. its slow-consumer closes).
        string? logFile = Environment.GetEnvironmentVariable("WREN_BENCH_BROKER_LOG");
        string logLevel = string.IsNullOrEmpty(logFile) ? "Warning" : "Information";
        var process = await ChildProcess.StartAsync(
            DotnetHost(),
            [brokerDll, "--data-dir", directory, "--port", inv(port), "--Wren:Limits:SendsPerSecond=0", "--Wren:Limits:SendsPerUserPerSecond=0",
             "--Wren:MaxConnections=" + inv(maxConnections), "--Wren:MaxConnectionsPerAddress=" + inv(maxConnections),
             .. (Plaintext ? (string[])["--plaintext"] : [])],
            line =>
            {
                if (Plaintext && line.StartsWith("wren: listening on ", StringComparison.Ordinal))
                {
                    return true;
                }

                if (line.StartsWith(Prefix, StringComparison.Ordinal))
                {
                    fingerprint = line[Prefix.Length..].Trim();
                    return true;
                }

                return false;
            },
            TimeSpan.FromSeconds(60),
            new Dictionary<string, string>
            {
                ["Logging__LogLevel__Default"] = logLevel,
                ["Logging__LogLevel__Microsoft"] = "Warning",
                // As ./run.sh and docs/operations.md recommend: two glibc arenas, not sixteen (W4: 22 → 16 KiB per connection).
                ["MALLOC_ARENA_MAX"] = Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") ?? "2",
            },
            string.IsNullOrEmpty(logFile) ? null : logFile);
        try
        {
            string tokenFile = Path.Combine(directory, "admin.token");
            for (int i = 0; i < 100 && !File.Exists(tokenFile); i++)
            {
                await Task.Delay(50);
            }

            string token = (await File.ReadAllTextAsync(tokenFile)).Trim();
            var admin = await WrenClient.ConnectAsync(new WrenClientOptions { Port = port, Token = token, PinnedFingerprint = fingerprint, UseTls = !Plaintext, SyncOnConnect = false });
            return new WrenBroker(process, directory, port, fingerprint, admin);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>Client options for a device token on this broker.</summary>
    public WrenClientOptions ClientOptions(string token) => new()
    {
        Port = Port,
        Token = token,
        PinnedFingerprint = Fingerprint,
        UseTls = !Plaintext,
    };

    /// <summary>
    /// Creates <paramref name="users"/> users named <c>{prefix}{i}</c> with <paramref name="devices"/> device tokens each,
    /// a few requests in flight at a time.
    /// </summary>
    public async Task<IReadOnlyList<(ulong UserId, string[] Tokens)>> CreateUsersAsync(string prefix, int users, int devices)
    {
        var result = new (ulong, string[])[users];
        await Parallel.ForAsync(0, users, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
        {
            string name = prefix + i.ToString(CultureInfo.InvariantCulture);
            var user = await Admin.AdminCreateUserAsync(name, cancellationToken: ct);
            var tokens = new string[devices];
            for (int d = 0; d < devices; d++)
            {
                tokens[d] = (await Admin.AdminIssueTokenAsync(name, "d" + d.ToString(CultureInfo.InvariantCulture), cancellationToken: ct)).Token;
            }

            result[i] = (user.UserId, tokens);
        });
        return result;
    }

    /// <summary>Connects one client per token, a few at a time.</summary>
    public async Task<WrenClient[]> ConnectAllAsync(IReadOnlyList<string> tokens, Action<WrenClientOptions>? configure = null)
    {
        var clients = new WrenClient[tokens.Count];
        await Parallel.ForAsync(0, tokens.Count, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            var options = ClientOptions(tokens[i]);
            configure?.Invoke(options);
            clients[i] = await WrenClient.ConnectAsync(options, ct);
        });
        return clients;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await Admin.DisposeAsync();
        await _process.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory does not change any result.
        }
    }

    /// <summary>The dotnet host running this process (so children use the same runtime).</summary>
    public static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host
        : Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";

    /// <summary>A port that was free a moment ago on 127.0.0.1.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
