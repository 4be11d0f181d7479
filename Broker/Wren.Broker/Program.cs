using System.Runtime.InteropServices;
using Microsoft.Extensions.Configuration;
using Wren.Broker;

// wren broker: `Wren.Broker [--data-dir DIR] [--port N] [--host IP] [--plaintext]`
// Options also come from appsettings.json and WREN__* environment variables (e.g. WREN__PORT=7401).
var switches = new Dictionary<string, string>
{
    ["--data-dir"] = "Wren:DataDirectory",
    ["--port"] = "Wren:Port",
    ["--host"] = "Wren:Host",
    ["--durability"] = "Wren:Durability",
};
bool plaintext = args.Contains("--plaintext");
var configuration = new ConfigurationBuilder()
    .SetBasePath(AppContext.BaseDirectory)
    .AddJsonFile("appsettings.json", optional: true)
    .AddEnvironmentVariables()
    .AddCommandLine(args.Where(a => a != "--plaintext").ToArray(), switches)
    .Build();

WrenOptions options;
try
{
    options = WrenServer.BindOptions(configuration);
}
catch (Exception ex) when (ex is Microsoft.Extensions.Options.OptionsValidationException or InvalidOperationException or FormatException)
{
    Console.Error.WriteLine($"wren: invalid configuration: {ex.Message}");
    return 2;
}

if (plaintext)
{
    options.Tls.Enabled = false;
}

await using var server = await WrenServer.StartAsync(options);
Console.WriteLine($"wren: listening on {server.Endpoint} ({(server.Certificate is null ? "plaintext" : "TLS")})");
if (server.Fingerprint is not null)
{
    Console.WriteLine($"wren: certificate SHA-256 fingerprint {server.Fingerprint}");
}

// SIGHUP reloads the TLS certificate file for new connections (live ones keep theirs); it does not stop the broker.
using var reloadSignal = OperatingSystem.IsWindows() ? null : PosixSignalRegistration.Create(PosixSignal.SIGHUP, signal =>
{
    signal.Cancel = true;
    server.ReloadCertificate("SIGHUP");
});
Console.WriteLine("wren: press Ctrl+C to stop");
await server.WaitForShutdownAsync();
await server.StopAsync();
return 0;
