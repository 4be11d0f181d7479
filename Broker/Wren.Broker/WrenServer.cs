using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Security.Cryptography.X509Certificates;
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
/// A running broker: storage, routing core and the TLS listener (<see cref="WrenListener"/>) in a generic host. Used by Program and by in-process tests.
/// </summary>
public sealed partial class WrenServer : IAsyncDisposable, IHostOperations
{
    /// <summary>Name of the file holding the bootstrap administrator's token, in the data directory.</summary>
    public const string AdminTokenFile = "admin.token";

    private readonly IHost _app;
    private readonly ServerCertificates? _certificates;
    private readonly SemaphoreSlim _keyRotation = new(1, 1);
    private readonly ILogger _securityLogger;
    private KeyRing? _keyRing;
    private ITimer? _certificateCheck;
    private bool _stopped;

    private WrenServer(IHost app, WrenOptions options, WrenStore store, BrokerCore core, ServerCertificates? certificates, KeyRing? keyRing)
    {
        _app = app;
        Options = options;
        Store = store;
        Core = core;
        _certificates = certificates;
        _keyRing = keyRing;
        _securityLogger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Wren.Broker.Security");
    }

    /// <summary>The options in force.</summary>
    public WrenOptions Options { get; }

    /// <summary>The store.</summary>
    public WrenStore Store { get; }

    /// <summary>The routing core.</summary>
    public BrokerCore Core { get; }

    /// <summary>The certificate new connections get (null when TLS is off); it changes when the certificate file is reloaded.</summary>
    public X509Certificate2? Certificate => _certificates?.Certificate;

    /// <summary>The TLS settings of the next handshake (null when TLS is off).</summary>
    internal System.Net.Security.SslServerAuthenticationOptions? TlsAuthenticationOptions => _certificates?.CreateAuthenticationOptions();

    /// <summary>SHA-256 fingerprint of the certificate, as clients pin it.</summary>
    public string? Fingerprint => Certificate is null ? null : DevCertificate.Fingerprint(Certificate);

    /// <summary>The bound endpoint (with the real port when 0 was configured).</summary>
    public IPEndPoint Endpoint { get; private set; } = new(IPAddress.Loopback, 0);

    /// <summary>Completes when the host stops.</summary>
    public Task WaitForShutdownAsync() => _app.WaitForShutdownAsync();

    /// <summary>The connections running now (for tests and diagnostics).</summary>
    internal ICollection<WrenConnection> Connections => _app.Services.GetRequiredService<WrenConnectionHandler>().Connections;

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
    /// <param name="time">The routing core's clock (token expiry, TOTP steps, timestamps); the system clock by default.</param>
    public static async Task<WrenServer> StartAsync(WrenOptions options, Action<ILoggingBuilder>? configureLogging = null, string[]? args = null, TimeProvider? time = null)
    {
        Validate(options);
        Directory.CreateDirectory(options.DataDirectory);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args ?? [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        configureLogging?.Invoke(builder.Logging);

        X509Certificate2? certificate = null;
        ServerCertificates? certificates = null;
        bool generated = false;
        if (options.Tls.Enabled)
        {
            certificate = string.IsNullOrEmpty(options.Tls.CertificatePath)
                ? DevCertificate.Load(options.Tls, options.DataDirectory, out generated)
                : ServerCertificates.Read(options.Tls.CertificatePath, options.Tls);
            certificates = new ServerCertificates(
                certificate,
                options.Tls,
                string.IsNullOrEmpty(options.Tls.CertificatePath) ? Path.Combine(options.DataDirectory, DevCertificate.FileName) : options.Tls.CertificatePath);
        }

        var keyRing = KeyRing.Load(options.DataDirectory);
        if (keyRing is null && options.AtRest.Encrypt)
        {
            keyRing = KeyRing.CreateNew();
            keyRing.Save(options.DataDirectory);
        }

        var store = WrenStore.Open(new StoreOptions
        {
            DataDirectory = Path.Combine(options.DataDirectory, "db"),
            Durability = options.Durability,
            Encryption = keyRing?.ToStoreOptions(),
            TestAckBeforeWrite = options.Testing.AckBeforeDurable,
        });
        BrokerCore? core = null;
        try
        {
            var protocolLimits = new ProtocolLimits { MaxFrameLength = options.MaxFrameLength };
            builder.Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(options));
            builder.Services.AddSingleton(store);
            builder.Services.AddSingleton(sp => new BrokerCore(store, store, store, store, options.Limits, protocolLimits, time ?? TimeProvider.System, sp.GetRequiredService<ILoggerFactory>(), store, auth: options.Auth));
            builder.Services.AddSingleton<WrenConnectionHandler>();
            builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(10));
            builder.Services.AddSingleton(sp => new WrenListener(
                sp.GetRequiredService<IOptions<WrenOptions>>(), certificates, sp.GetRequiredService<WrenConnectionHandler>(), sp.GetRequiredService<ILogger<WrenListener>>()));
            builder.Services.AddHostedService(sp => sp.GetRequiredService<WrenListener>());

            var app = builder.Build();
            core = app.Services.GetRequiredService<BrokerCore>();
            var handler = app.Services.GetRequiredService<WrenConnectionHandler>();
            var stoppingCore = core;
            var shutdownLogger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Wren.Broker.Shutdown");
            app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() =>
            {
                HostLog.ShutdownPhase(shutdownLogger, "GoAway to every connection; the listener then stops accepting and drains");
                // Phase 1, before the listener stops accepting and drains: every connection, even one still in its handshake, gets GoAway.
                stoppingCore.BeginShutdown(TimeSpan.FromSeconds(2));
                handler.CloseAll(Frames.GoAway(TimeSpan.FromSeconds(2)));
            });
            var server = new WrenServer(app, options, store, core, certificates, keyRing);
            core.HostOperations = server;
            await server.BootstrapAdminAsync(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<WrenServer>()).ConfigureAwait(false);
            await app.StartAsync().ConfigureAwait(false);

            server.Endpoint = app.Services.GetRequiredService<WrenListener>().LocalEndPoint!;
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

            if (certificates is not null && options.Tls.ReloadCheckInterval > TimeSpan.Zero)
            {
                server._certificateCheck = TimeProvider.System.CreateTimer(
                    static s => ((WrenServer)s!).CheckCertificateFile(), server, options.Tls.ReloadCheckInterval, options.Tls.ReloadCheckInterval);
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
        if (_certificateCheck is not null)
        {
            await _certificateCheck.DisposeAsync().ConfigureAwait(false);
        }

        await _app.StopAsync().ConfigureAwait(false);
        await Core.DisposeAsync().ConfigureAwait(false);
        await Store.FlushAsync().ConfigureAwait(false);
        await Store.DisposeAsync().ConfigureAwait(false);
        if (_app is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync().ConfigureAwait(false);
        }
        else
        {
            _app.Dispose();
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    /// <summary>
    /// Reads the certificate file again (the configured one, or the development certificate) for new connections.
    /// Called on SIGHUP by the broker process; also reachable as `wren tls reload` and run when the file changes.
    /// </summary>
    /// <param name="trigger">What asked for it, for the log and the audit record.</param>
    /// <returns>True when the new certificate is in force; false (logged) when the file is unusable and the old one stays.</returns>
    public bool ReloadCertificate(string trigger)
    {
        if (_certificates is null)
        {
            return false;
        }

        try
        {
            var info = _certificates.Reload();
            CertificateReloaded(_securityLogger, info.Subject, info.Fingerprint, trigger);
            Core.Audit.Record(new AuditEvent(AuditAction.TlsReloaded, 0, 0, 0, 0, $"{trigger}: {info.Subject} {info.Fingerprint}", null));
            return true;
        }
        catch (HostOperationException ex)
        {
            CertificateReloadFailed(_securityLogger, ex.Message, trigger);
            Core.Audit.Record(new AuditEvent(AuditAction.TlsReloadFailed, 0, 0, 0, 0, $"{trigger}: {ex.Message}", null));
            return false;
        }
    }

    /// <inheritdoc/>
    Task<CertificateInfo> IHostOperations.ReloadCertificateAsync()
    {
        if (_certificates is null)
        {
            throw new HostOperationException("TLS is off on this broker");
        }

        try
        {
            var info = _certificates.Reload();
            CertificateReloaded(_securityLogger, info.Subject, info.Fingerprint, "administrator request");
            return Task.FromResult(info);
        }
        catch (HostOperationException ex)
        {
            CertificateReloadFailed(_securityLogger, ex.Message, "administrator request");
            throw;
        }
    }

    /// <inheritdoc/>
    async Task<KeyRingStatus> IHostOperations.RotateEncryptionKeyAsync()
    {
        await _keyRotation.WaitAsync().ConfigureAwait(false);
        try
        {
            KeyRing next;
            try
            {
                next = _keyRing?.WithNewKey() ?? KeyRing.CreateNew();
            }
            catch (InvalidOperationException ex)
            {
                throw new HostOperationException(ex.Message, ex);
            }

            // The ring is on disk before any record is sealed with the new key, so a crash at any point leaves every
            // stored record readable at the next start.
            try
            {
                next.Save(Options.DataDirectory);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new HostOperationException($"the key ring could not be written ({ex.Message}); the current key stays in force", ex);
            }

            await Store.ActivateEncryptionKeyAsync(next.ActiveKeyId, next.Keys[next.ActiveKeyId]).ConfigureAwait(false);
            _keyRing = next;
            KeyRotated(_securityLogger, next.ActiveKeyId);
            return DescribeKeyRing();
        }
        finally
        {
            _keyRotation.Release();
        }
    }

    /// <inheritdoc/>
    KeyRingStatus IHostOperations.GetKeyRingStatus() => DescribeKeyRing();

    private KeyRingStatus DescribeKeyRing() => new(Store.ActiveEncryptionKeyId ?? 0, Store.EncryptionKeyIds);

    private void CheckCertificateFile()
    {
        if (_certificates is { } certificates && certificates.FileChanged())
        {
            ReloadCertificate("certificate file changed");
        }
    }

    [LoggerMessage(2700, LogLevel.Information, "TLS certificate reloaded ({Trigger}): {Subject} SHA-256 fingerprint {Fingerprint}; new connections use it")]
    private static partial void CertificateReloaded(ILogger logger, string subject, string fingerprint, string trigger);

    [LoggerMessage(2701, LogLevel.Error, "TLS certificate reload ({Trigger}) failed: {Reason}")]
    private static partial void CertificateReloadFailed(ILogger logger, string reason, string trigger);

    [LoggerMessage(2702, LogLevel.Information, "At-rest key {KeyId} generated and active for new writes; older keys stay for reading")]
    private static partial void KeyRotated(ILogger logger, byte keyId);

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
