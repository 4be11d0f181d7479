using Wren.Fuzz;
using Wren.Protocol;
using Wren.Protocol.Messages;
using Wren.Storage;

namespace Wren.Broker.Tests;

/// <summary>
/// Replays the session fuzz target's corpus (tools/fuzz/corpus/handshake) and every crash input a campaign found
/// (tools/fuzz/regressions/handshake, plus the byte arrays below) through <see cref="HandshakeTarget.Run"/>: a real
/// session of a real core over a real store in a temporary directory, fed frame by frame. The negative control shows
/// that the target's checks catch a request that fails inside the broker.
/// </summary>
/// <remarks>The target keeps one harness per process; the tests of this class share it and run one after the other.</remarks>
public sealed class FuzzHandshakeRegressionTests : IDisposable
{
    /// <summary>
    /// Crash inputs found by fuzzing, as byte arrays. The campaigns recorded in docs/reliability.md found none so far;
    /// the inputs below cover each prelude mode of the input format with a short hostile stream.
    /// </summary>
    public static TheoryData<string, byte[]> Kept => new()
    {
        { "nothing at all after the mode byte", [0x00] },
        { "Auth before Hello", [0x00, .. Frame(new Auth { Method = AuthMethod.Token, Token = "wren_x" }, 1)] },
        { "a second Hello after Hello", [0x01, .. Frame(new Hello { ClientName = "x", ClientVersion = "1" }, 3)] },
        { "a Send after Hello, before Auth", [0x01, .. Frame(new Send { ConversationId = 1, ClientMsgId = "a", Body = [1] }, 3)] },
        { "a Send to a conversation the user is not in", [0x02, .. Frame(new Send { ConversationId = 999, ClientMsgId = "a", Body = [1] }, 3)] },
        { "a frame with the length field of int.MaxValue after Auth", [0x02, 0x7f, 0xff, 0xff, 0xff, 0x20] },
        { "administration from a remote address", [0x03, .. Frame(new AdminStats(), 3)] },
    };

    public void Dispose() => HandshakeTarget.Reset();

    [Theory]
    [MemberData(nameof(Kept))]
    public void Kept_input_runs_clean(string name, byte[] input)
    {
        Assert.False(string.IsNullOrEmpty(name));
        HandshakeTarget.Run(input);
    }

    [Fact]
    public void Every_corpus_and_regression_file_runs_clean()
    {
        string fuzz = Path.Combine(RepositoryRoot(), "tools", "fuzz");
        var files = new[] { "corpus", "regressions" }
            .Select(kind => Path.Combine(fuzz, kind, "handshake"))
            .Where(Directory.Exists)
            .SelectMany(Directory.GetFiles)
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.True(files.Count >= 20, $"tools/fuzz/corpus/handshake holds only {files.Count} files");
        var failures = new List<string>();
        foreach (var file in files)
        {
            try
            {
                HandshakeTarget.Run(File.ReadAllBytes(file));
            }
            catch (Exception ex)
            {
                failures.Add($"{Path.GetFileName(file)}: {ex.GetType().Name}: {ex.Message}");
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Fact]
    public void A_send_that_reaches_the_store_runs_clean()
    {
        // Mode 2: Hello and Auth as the harness's user, who owns group 1; then a Send to it (acknowledged) and its retry.
        var send = Frame(new Send { ConversationId = 1, ClientMsgId = "regression-1", Body = [0x68, 0x69] }, 3);
        HandshakeTarget.Run([0x02, .. send, .. send]);
    }

    [Fact]
    public void The_target_catches_a_request_that_fails_inside_the_broker()
    {
        // Negative control: a log whose appends throw. The session answers InternalError and logs an error; the target
        // must report it. Without the fault the same input runs clean.
        byte[] input = [0x02, .. Frame(new Send { ConversationId = 1, ClientMsgId = "control-1", Body = [1] }, 3)];
        HandshakeTarget.Reset();
        HandshakeTarget.Run(input);

        HandshakeTarget.WrapLog = log => new ThrowingLog(log);
        try
        {
            HandshakeTarget.Reset();
            var failure = Assert.Throws<InvariantViolationException>(() => HandshakeTarget.Run(input));
            Assert.Matches("logged above Information|InternalError", failure.Message);
        }
        finally
        {
            HandshakeTarget.WrapLog = null;
            HandshakeTarget.Reset();
        }
    }

    private static byte[] Frame<T>(T message, uint requestId)
        where T : IMessage => FrameWriter.ToArray(requestId, message);

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Broker.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"Broker.sln not found above {AppContext.BaseDirectory}");
    }

    /// <summary>A log whose appends fail with an exception the broker does not expect; everything else passes through.</summary>
    private sealed class ThrowingLog(IMessageLog inner) : IMessageLog
    {
        public Action<IReadOnlyList<LogEntry>>? Committed
        {
            get => inner.Committed;
            set => inner.Committed = value;
        }

        public ValueTask<AppendResult> AppendAsync(AppendRequest request, CancellationToken cancellationToken = default) =>
            ValueTask.FromException<AppendResult>(new InvalidOperationException("injected append failure"));

        public LogHead? GetHead(ulong conversationId) => inner.GetHead(conversationId);

        public IReadOnlyList<LogEntry> ReadRange(ulong conversationId, ulong fromSeq, int limit) => inner.ReadRange(conversationId, fromSeq, limit);

        public IReadOnlyList<LogEntry> ReadBefore(ulong conversationId, ulong beforeSeq, int limit) => inner.ReadBefore(conversationId, beforeSeq, limit);
    }
}
