using System.Diagnostics;

namespace Wren.Bench.Targets;

/// <summary>
/// A child process whose output is read line by line (to find a ready line) and which is stopped by its pid: SIGTERM
/// first, SIGKILL after a grace period.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _tail = [];
    private readonly Lock _lock = new();
    private readonly StreamWriter? _log;

    private ChildProcess(Process process, StreamWriter? log)
    {
        _process = process;
        _log = log;
    }

    /// <summary>The child's process id.</summary>
    public int Pid => _process.Id;

    /// <summary>True once the child has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Writes a line to the child's standard input.</summary>
    public Task WriteLineAsync(string line) => _process.StandardInput.WriteLineAsync(line);

    /// <summary>
    /// Starts <paramref name="fileName"/> and waits until an output line satisfies <paramref name="ready"/>
    /// (which may capture values from it). With <paramref name="logFile"/>, every output line is also appended there
    /// with the time it was read.
    /// </summary>
    public static async Task<ChildProcess> StartAsync(string fileName, IEnumerable<string> arguments, Func<string, bool> ready, TimeSpan timeout, IDictionary<string, string>? environment = null, string? logFile = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var child = new ChildProcess(process, logFile is null ? null : new StreamWriter(logFile, append: true) { AutoFlush = true });
        var isReady = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            child.Keep(line);
            if (ready(line))
            {
                isReady.TrySetResult();
            }
        }

        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.Exited += (_, _) => isReady.TrySetException(new InvalidOperationException($"{Path.GetFileName(fileName)} exited during start-up:\n{child.Tail()}"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await isReady.Task.WaitAsync(timeout);
        }
        catch
        {
            await child.DisposeAsync();
            throw;
        }

        return child;
    }

    /// <summary>The last lines the child wrote.</summary>
    public string Tail()
    {
        lock (_lock)
        {
            return string.Join('\n', _tail);
        }
    }

    private void Keep(string line)
    {
        lock (_lock)
        {
            _log?.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
            _tail.Add(line);
            if (_tail.Count > 20)
            {
                _tail.RemoveAt(0);
            }
        }
    }

    /// <summary>Stops the child: SIGTERM, then SIGKILL after 10 s.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                {
                    await term.WaitForExitAsync();
                }

                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    await _process.WaitForExitAsync(grace.Token);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill(entireProcessTree: true);
                    await _process.WaitForExitAsync();
                }
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
        lock (_lock)
        {
            _log?.Dispose();
        }
    }
}
