using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Wren.Broker.Core;
using Wren.Protocol;
using Wren.Storage;

namespace Wren.Broker;

/// <summary>
/// A running broker: storage, routing core and the Kestrel listener with TLS. Used by Program and by in-process tests.
/// </summary>
public sealed partial class WrenServer : IAsyncDisposable
{
    /// <summary>Name of the file holding the bootstrap administrator's token, in the data directory.</summary>
    public const string AdminTokenFile = "admin.token";

    private readonly WebApplication _app;
    private bool _stopped;

    private WrenServer(WebApplication app, WrenOptions options, WrenStore store, BrokerCore core, X509Certificate2? certificate)
    {
        _app = app;
        Options = options;
        Store = store;
        Core = core;
        Certificate = certificate;
    }

    /// <summary>The options in force.</summary>
    public WrenOptions Options { get; }

    /// <summary>The store.</summary>
    public WrenStore Store { get; }

    /// <summary>The routing core.</summary>
    public BrokerCore Core { get; }

    /// <summary>The server certificate (null when TLS is off).</summary>
    public X509Certificate2? Certificate { get; }

    /// <summary>SHA-256 fingerprint of the certificate, as clients pin it.</summary>
    public string? Fingerprint => Certificate is null ? null : DevCertificate.Fingerprint(Certificate);

    /// <summary>The bound endpoint (with the real port when 0 was configured).</summary>
    public IPEndPoint Endpoint { get; private set; } = new(IPAddress.Loopback, 0);

    /// <summary>Completes when the host stops.</summary>
    public Task WaitForShutdownAsync() => _app.WaitForShutdownAsync();

    /// <summary>Reads options from configuration (appsettings.json, WREN__ environment variables, command line) and validates them.</summary>
    public static WrenOptions BindOptions(IConfiguration configuration)
    {
        var options = configuration.GetSection(WrenOptions.Section).Get<WrenOptions>() ?? new WrenOptions();
        Validate(options);
        return options;
    }

    /// <summary>Starts a broker.</summary>
    /// <param name="options">Options (validated here).</param>
    /// <param name="configureLogging">Extra logging set-up (tests capture logs here).</param>
    /// <param name="args">Command-line arguments for the host's own configuration.</param>
    public static async Task<WrenServer> StartAsync(WrenOptions options, Action<ILoggingBuilder>? configureLogging = null, string[]? args = null)
    {
        Validate(options);
        Directory.CreateDirectory(options.DataDirectory);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args ?? [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        configureLogging?.Invoke(builder.Logging);

        X509Certificate2? certificate = null;
        bool generated = false;
        if (options.Tls.Enabled)
        {
            certificate = DevCertificate.Load(options.Tls, options.DataDirectory, out generated);
        }

        var store = WrenStore.Open(new StoreOptions
        {
            DataDirectory = Path.Combine(options.DataDirectory, "db"),
            Durability = options.Durability,
            TestAckBeforeWrite = options.Testing.AckBeforeDurable,
        });
        BrokerCore? core = null;
        try
        {
            var protocolLimits = new ProtocolLimits { MaxFrameLength = options.MaxFrameLength };
            builder.Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(options));
            builder.Services.AddSingleton(store);
            builder.Services.AddSingleton(sp => new BrokerCore(store, store, store, store, options.Limits, protocolLimits, TimeProvider.System, sp.GetRequiredService<ILoggerFactory>(), store));
            builder.Services.AddSingleton<WrenConnectionHandler>();
            builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(10));
            builder.WebHost.ConfigureKestrel(kestrel =>
            {
                kestrel.Limits.MaxConcurrentConnections = options.MaxConnections + 100;
                kestrel.Listen(IPAddress.Parse(options.Host), options.Port, listen =>
                {
                    listen.Use(next => context =>
                    {
                        context.Items[WrenConnection.AcceptedKey] = Environment.TickCount64;
                        return next(context);
                    });
                    if (certificate is not null)
                    {
                        listen.UseHttps(https =>
                        {
                            https.ServerCertificate = certificate;
                            https.HandshakeTimeout = options.Limits.HandshakeTimeout;
                        });
                    }

                    listen.UseConnectionHandler<WrenConnectionHandler>();
                });
            });

            var app = builder.Build();
            core = app.Services.GetRequiredService<BrokerCore>();
            var handler = app.Services.GetRequiredService<WrenConnectionHandler>();
            var stoppingCore = core;
            var shutdownLogger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Wren.Broker.Shutdown");
            app.Lifetime.ApplicationStopping.Register(() =>
            {
                HostLog.ShutdownPhase(shutdownLogger, "GoAway to every connection; Kestrel then stops accepting and drains");
                // Phase 1, before Kestrel stops accepting and drains: every connection, even one still in its handshake, gets GoAway.
                stoppingCore.BeginShutdown(TimeSpan.FromSeconds(2));
                handler.CloseAll(Frames.GoAway(TimeSpan.FromSeconds(2)));
            });
            var server = new WrenServer(app, options, store, core, certificate);
            await server.BootstrapAdminAsync(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<WrenServer>()).ConfigureAwait(false);
            await app.StartAsync().ConfigureAwait(false);

            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            server.Endpoint = new IPEndPoint(IPAddress.Parse(options.Host), new Uri(address).Port);
            var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Wren.Broker");
            HostLog.Listening(logger, server.Endpoint.ToString(), certificate is null ? "plaintext" : "TLS", Path.GetFullPath(options.DataDirectory));
            if (options.Testing.AckBeforeDurable)
            {
                AckBeforeDurableEnabled(logger);
            }

            if (certificate is not null)
            {
                HostLog.Certificate(logger, certificate.Subject, server.Fingerprint!, generated ? " (development certificate, generated now)" : "");
            }

            return server;
        }
        catch
        {
            if (core is not null)
            {
                await core.DisposeAsync().ConfigureAwait(false);
            }

            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Creates a user and a device token (in-process administration, used by tests and the offline admin verbs).</summary>
    public async Task<IssuedToken> CreateUserAsync(string userName, string deviceName = "device", bool isAdmin = false)
    {
        var user = await Store.CreateUserAsync(userName, userName, isAdmin).ConfigureAwait(false)
            ?? Store.FindUser(userName)!;
        return await Core.Authenticator.IssueAsync(user, deviceName).ConfigureAwait(false);
    }

    /// <summary>Issues a token for a new device of an existing user.</summary>
    public async Task<IssuedToken> AddDeviceAsync(string userName, string deviceName) =>
        await Core.Authenticator.IssueAsync(Store.FindUser(userName) ?? throw new ArgumentException("no such user", nameof(userName)), deviceName).ConfigureAwait(false);

    /// <summary>Stops in phases: GoAway to every session, stop accepting and drain, abort stragglers, then flush and close storage.</summary>
    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        await _app.StopAsync().ConfigureAwait(false);
        await Core.DisposeAsync().ConfigureAwait(false);
        await Store.FlushAsync().ConfigureAwait(false);
        await Store.DisposeAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private async Task BootstrapAdminAsync(ILogger logger)
    {
        if (Store.ListUsers(0, 1).Count > 0)
        {
            return;
        }

        var issued = await CreateUserAsync("admin", "admin-cli", isAdmin: true).ConfigureAwait(false);
        string path = Path.Combine(Options.DataDirectory, AdminTokenFile);
        await File.WriteAllTextAsync(path, issued.Token + "\n").ConfigureAwait(false);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        HostLog.AdminBootstrapped(logger, Path.GetFullPath(path));
    }

    [LoggerMessage(2900, LogLevel.Warning, "Wren:Testing:AckBeforeDurable is on: sends are acknowledged before they are durable and a crash loses acknowledged messages (crash-harness negative control only)")]
    private static partial void AckBeforeDurableEnabled(ILogger logger);

    private static void Validate(WrenOptions options)
    {
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true)
            || !IPAddress.TryParse(options.Host, out _))
        {
            var problems = results.Select(r => r.ErrorMessage).Append(IPAddress.TryParse(options.Host, out _) ? null : $"Host '{options.Host}' is not an IP address");
            throw new OptionsValidationException(WrenOptions.Section, typeof(WrenOptions), [.. problems.Where(p => p is not null).Select(p => p!)]);
        }
    }
}
