using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace Wren.Storage.Tests;

/// <summary>Kills a real writer process with SIGKILL mid-stream and checks what survived.</summary>
public sealed class CrashTests
{
    private const int AcksBeforeKill = 1500;

    private sealed record Ack(ulong ConversationId, ulong Seq, string ClientMsgId);

    private sealed record Check(int Acked, int Lost, IReadOnlyList<string> Problems);

    [Fact]
    public async Task Every_acknowledged_append_survives_SIGKILL_with_dense_seqs()
    {
        var directory = TestStore.NewDirectory();
        try
        {
            var acks = await RunAndKillAsync(directory, "durable");
            var check = await VerifyAsync(directory, acks);

            Assert.True(check.Acked >= AcksBeforeKill, $"only {check.Acked} acks");
            Assert.Empty(check.Problems);
            Assert.Equal(0, check.Lost);
        }
        finally
        {
            TestStore.DeleteDirectory(directory);
        }
    }

    [Fact]
    public async Task The_checker_finds_lost_appends_when_acks_are_sent_before_the_write()
    {
        var directory = TestStore.NewDirectory();
        try
        {
            var acks = await RunAndKillAsync(directory, "ack-on-queue");
            var check = await VerifyAsync(directory, acks);

            Assert.True(check.Lost > 0, "acknowledging before the write must lose appends at a crash");
            Assert.Empty(check.Problems);
        }
        finally
        {
            TestStore.DeleteDirectory(directory);
        }
    }

    /// <summary>Starts the host, reads acks until <see cref="AcksBeforeKill"/>, kills it, then reads what it had printed.</summary>
    private static async Task<List<Ack>> RunAndKillAsync(string directory, string mode)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(CrashHostPath());
        start.ArgumentList.Add(directory);
        start.ArgumentList.Add(mode);
        start.ArgumentList.Add("4");
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var acks = new List<Ack>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            while (acks.Count < AcksBeforeKill)
            {
                var line = await process.StandardOutput.ReadLineAsync(timeout.Token)
                    ?? throw new InvalidOperationException($"The crash host exited early: {await stderr}");
                Parse(line, acks);
            }
        }
        finally
        {
            process.Kill(entireProcessTree: true);
        }

        // Lines already written to the pipe before the kill were acknowledged too.
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            Parse(line, acks);
        }

        await process.WaitForExitAsync(timeout.Token);
        return acks;
    }

    private static void Parse(string line, List<Ack> acks)
    {
        var parts = line.Split(' ');
        if (parts[0] == "ACK" && parts.Length == 4)
        {
            acks.Add(new Ack(ulong.Parse(parts[1]), ulong.Parse(parts[2]), parts[3]));
        }
        else if (parts[0] != "READY")
        {
            throw new InvalidOperationException("Unexpected crash host output: " + line);
        }
    }

    /// <summary>Reopens the store and checks every ack and every log.</summary>
    private static async Task<Check> VerifyAsync(string directory, List<Ack> acks)
    {
        var problems = new List<string>();
        var lost = 0;
        await using var store = WrenStore.Open(new StoreOptions { DataDirectory = directory });
        foreach (var conversationId in acks.Select(a => a.ConversationId).Distinct())
        {
            var head = store.GetHead(conversationId)!.Value.Head;
            IReadOnlyList<LogEntry> log;
            try
            {
                log = store.ReadRange(conversationId, 1, int.MaxValue);
            }
            catch (StorageCorruptException e)
            {
                problems.Add(e.Message);
                continue;
            }

            if (log.Count != (int)head)
            {
                problems.Add($"conversation {conversationId}: {log.Count} entries for head {head}");
            }

            for (var i = 0; i < log.Count; i++)
            {
                var entry = log[i];
                if (entry.Seq != (ulong)i + 1 || Encoding.UTF8.GetString(entry.Body.Span) != Body(conversationId, entry.ClientMsgId))
                {
                    problems.Add($"conversation {conversationId}: bad entry at position {i}: seq {entry.Seq} id {entry.ClientMsgId}");
                }
            }
        }

        foreach (var ack in acks)
        {
            var entry = store.ReadRange(ack.ConversationId, ack.Seq, 1).SingleOrDefault();
            if (entry is null)
            {
                lost++;
            }
            else if (entry.ClientMsgId != ack.ClientMsgId)
            {
                problems.Add($"ack {ack}: seq holds {entry.ClientMsgId}");
            }
        }

        return new Check(acks.Count, lost, problems);
    }

    private static string Body(ulong conversationId, string clientMsgId) => $"body|{conversationId}|{clientMsgId}|" + new string('x', 64);

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    private static string CrashHostPath()
    {
        var candidates = new List<string> { Path.Combine(AppContext.BaseDirectory, "Wren.Storage.CrashHost.dll") };
        var built = typeof(CrashTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "CrashHostPath")?.Value;
        if (built is not null)
        {
            candidates.Add(Path.GetFullPath(built));
        }

        return candidates.FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException("The crash host is not built; build Tests/Wren.Storage.Tests. Looked in: " + string.Join(", ", candidates));
    }
}
