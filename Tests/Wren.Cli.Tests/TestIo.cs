using System.Text;
using System.Threading.Channels;

namespace Wren.Cli.Tests;

/// <summary>A writer tests can read while the CLI is still writing to it.</summary>
public sealed class ConcurrentWriter : TextWriter
{
    private readonly StringBuilder _text = new();
    private readonly Lock _lock = new();

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        lock (_lock)
        {
            _text.Append(value);
        }
    }

    public override void Write(string? value)
    {
        lock (_lock)
        {
            _text.Append(value);
        }
    }

    public override void Write(char[] buffer, int index, int count)
    {
        lock (_lock)
        {
            _text.Append(buffer, index, count);
        }
    }

    public override string ToString()
    {
        lock (_lock)
        {
            return _text.ToString();
        }
    }
}

/// <summary>Standard input a test types into line by line while the command runs; <see cref="End"/> is Ctrl+D.</summary>
public sealed class ScriptedInput : TextReader
{
    private readonly Channel<string?> _lines = Channel.CreateUnbounded<string?>();

    public void Type(string line) => _lines.Writer.TryWrite(line);

    public void End() => _lines.Writer.TryComplete();

    public override async ValueTask<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _lines.Reader.ReadAsync(cancellationToken);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    public override Task<string?> ReadLineAsync() => ReadLineAsync(CancellationToken.None).AsTask();

    public override string? ReadLine() => ReadLineAsync().GetAwaiter().GetResult();
}

/// <summary>Waiting on conditions with a timeout; never a fixed sleep.</summary>
public static class Eventually
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    public static async Task TrueAsync(Func<bool> condition, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("timed out waiting: " + describe());
            }

            await Task.Delay(10);
        }
    }

    /// <summary>Waits until the writer's text contains <paramref name="text"/>.</summary>
    public static Task ContainsAsync(ConcurrentWriter writer, string text) =>
        TrueAsync(() => writer.ToString().Contains(text, StringComparison.Ordinal), () => $"output to contain '{text}'; it is:\n{writer}");
}
