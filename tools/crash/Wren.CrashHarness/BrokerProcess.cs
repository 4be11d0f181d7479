using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Wren.CrashHarness;

/// <summary>
/// The broker as a child process on a fixed data directory and port: started, killed with SIGKILL and started again.
/// Reads its output to learn the certificate fingerprint and counts warning and error lines.
/// </summary>
public sealed class BrokerProcess : IAsyncDisposable
{
    private const int MaxLogSamples = 20;
    private readonly string _brokerPath;
    private readonly string _dataDirectory;
    private readonly bool _ackBeforeDurable;
    private readonly IReadOnlyList<string> _extraArguments;
    private readonly bool _ownSession;
    private readonly Lock _lock = new();
    private readonly List<string> _samples = [];
    private readonly List<string> _errorSamples = [];
    private Process? _process;
    private int _warnings;
    private int _errors;

    /// <summary>Creates the controller; nothing starts until <see cref="StartAsync"/>.</summary>
    public BrokerProcess(string brokerPath, string dataDirectory, bool ackBeforeDurable, IReadOnlyList<string>? extraArguments = null, bool ownSession = false)
    {
        _ownSession = ownSession && File.Exists(SetSid);
        _extraArguments = extraArguments ?? [];
        _brokerPath = brokerPath;
        _dataDirectory = dataDirectory;
        _ackBeforeDurable = ackBeforeDurable;
    }

    /// <summary>The port the broker listens on (fixed after the first start, so clients reconnect to the same place).</summary>
    public int Port { get; private set; }

    /// <summary>The certificate fingerprint printed by the first start.</summary>
    public string Fingerprint { get; private set; } = "";

    /// <summary>True when the broker process was started and has exited by itself (not killed by this controller).</summary>
    public bool HasExited => _process is { } process && process.HasExited;

    /// <summary>The broker's process id, or 0 when it is not running.</summary>
    public int ProcessId => _process?.Id ?? 0;

    /// <summary>Warning lines the broker logged.</summary>
    public int Warnings => Volatile.Read(ref _warnings);

    /// <summary>Error and critical lines the broker logged.</summary>
    public int Errors => Volatile.Read(ref _errors);

    /// <summary>The first warning and error lines.</summary>
    public IReadOnlyList<string> Samples
    {
        get
        {
            lock (_lock)
            {
                return [.. _samples];
            }
        }
    }

    /// <summary>
    /// Starts the broker. The first start picks a free port (binding port 0, then releasing it) and tries another one if
    /// the broker loses the race for it; later starts reuse the port and retry while it is still taken.
    /// </summary>
    public async Task StartAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        var firstStart = Port == 0;
        Exception? last = null;
        while (deadline.Elapsed < timeout)
        {
            if (firstStart)
            {
                Port = FreePort();
            }

            try
            {
                await StartOnceAsync(timeout - deadline.Elapsed, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (BrokerStartException ex)
            {
                // Typically the port was taken between our probe and the broker's bind: try again.
                last = ex;
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
        }

        throw new TimeoutException($"The broker did not start within {timeout.TotalSeconds:0} s.", last);
    }

    /// <summary>The first error lines the broker logged.</summary>
    public IReadOnlyList<string> ErrorSamples
    {
        get
        {
            lock (_lock)
            {
                return [.. _errorSamples];
            }
        }
    }

    /// <summary>Kills the broker with SIGKILL (no shutdown code runs) and waits for the process to be gone.</summary>
    public async Task KillAsync()
    {
        var process = _process ?? throw new InvalidOperationException("The broker is not running.");
        _process = null;
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        process.Dispose();
    }

    /// <summary>
    /// Stops the broker with SIGSTOP: the process, its sockets and its connections stay, it just runs no more. Returns
    /// once every thread of the process is stopped (kill returns when the signal is queued, and threads that are running
    /// at that moment stop only when they next enter the kernel).
    /// </summary>
    public async Task PauseAsync()
    {
        await SignalAsync("STOP").ConfigureAwait(false);
        var deadline = Stopwatch.StartNew();
        while (!AllThreadsStopped())
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(5))
            {
                throw new TimeoutException("The broker's threads did not all stop within 5 s of SIGSTOP.");
            }

            await Task.Delay(1).ConfigureAwait(false);
        }
    }

    private bool AllThreadsStopped()
    {
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{_process?.Id ?? 0}/task"))
            {
                if (StateOf(File.ReadAllText(Path.Combine(task, "stat"))) is not ('T' or 't'))
                {
                    return false;
                }
            }

            return true;
        }
        catch (IOException)
        {
            // A thread ended while it was read: look again.
            return false;
        }
    }

    // pid (comm) state ...: comm may hold spaces and parentheses, the state follows the last ')'.
    private static char StateOf(string stat) => stat[(stat.LastIndexOf(')') + 2)..].FirstOrDefault();

    /// <summary>True while the broker process is stopped (state T in /proc), false when it runs; null when unknown.</summary>
    public bool? IsStopped()
    {
        try
        {
            return StateOf(File.ReadAllText($"/proc/{_process?.Id ?? 0}/stat")) is 'T' or 't';
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Lets a stopped broker run again with SIGCONT.</summary>
    public Task ResumeAsync() => SignalAsync("CONT");

    private async Task SignalAsync(string signal)
    {
        var process = _process ?? throw new InvalidOperationException("The broker is not running.");
        var start = new ProcessStartInfo("kill") { UseShellExecute = false, RedirectStandardError = true };
        start.ArgumentList.Add("-" + signal);
        start.ArgumentList.Add(process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var kill = Process.Start(start) ?? throw new InvalidOperationException("kill did not start.");
        var error = await kill.StandardError.ReadToEndAsync().ConfigureAwait(false);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await kill.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {process.Id} failed ({kill.ExitCode}): {error.Trim()}");
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await KillAsync().ConfigureAwait(false);
        }
    }

    private async Task StartOnceAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        // In its own session (setsid execs in place, so the pid stays the broker's): when a process group holding a
        // stopped process becomes orphaned, the kernel sends the whole group SIGHUP and SIGCONT, which would end a pause
        // early whenever an unrelated process of the harness's group (a shell, a build node) exits.
        var start = new ProcessStartInfo(_ownSession ? SetSid : DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (_ownSession)
        {
            start.ArgumentList.Add(DotnetHost());
        }

        start.ArgumentList.Add(_brokerPath);
        start.ArgumentList.Add("--data-dir");
        start.ArgumentList.Add(_dataDirectory);
        start.ArgumentList.Add("--port");
        start.ArgumentList.Add(Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        start.ArgumentList.Add("--Wren:Testing:AckBeforeDurable=" + (_ackBeforeDurable ? "true" : "false"));
        foreach (var argument in _extraArguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Rate limits stay at their defaults; the load stays below them. Informational logs would only fill the pipe.
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["Logging__LogLevel__Microsoft"] = "Warning";

        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var fingerprint = "";
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not { } line)
            {
                return;
            }

            const string FingerprintPrefix = "wren: certificate SHA-256 fingerprint ";
            if (line.StartsWith(FingerprintPrefix, StringComparison.Ordinal))
            {
                fingerprint = line[FingerprintPrefix.Length..].Trim();
                listening.TrySetResult();
            }
            else
            {
                Observe(line);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                Observe(line);
            }
        };
        process.Exited += (_, _) => listening.TrySetException(new BrokerStartException("The broker exited during start-up."));
        if (!process.Start())
        {
            throw new BrokerStartException("The broker process did not start.");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await listening.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Already exited.
            }

            process.Dispose();
            throw;
        }

        if (Fingerprint.Length == 0)
        {
            Fingerprint = fingerprint;
        }
        else if (!string.Equals(Fingerprint, fingerprint, StringComparison.Ordinal))
        {
            Observe($"fail: the certificate changed across a restart: {Fingerprint} then {fingerprint}");
        }

        _process = process;
    }

    private void Observe(string line)
    {
        var error = line.Contains("fail:", StringComparison.Ordinal) || line.Contains("crit:", StringComparison.Ordinal)
            || line.StartsWith("Unhandled exception", StringComparison.Ordinal);
        var warning = line.Contains("warn:", StringComparison.Ordinal);
        if (!error && !warning)
        {
            return;
        }

        Interlocked.Increment(ref error ? ref _errors : ref _warnings);
        lock (_lock)
        {
            if (_samples.Count < MaxLogSamples)
            {
                _samples.Add(line);
            }

            if (error && _errorSamples.Count < MaxLogSamples)
            {
                _errorSamples.Add(line);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private const string SetSid = "/usr/bin/setsid";

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    private sealed class BrokerStartException(string message) : Exception(message);
}
