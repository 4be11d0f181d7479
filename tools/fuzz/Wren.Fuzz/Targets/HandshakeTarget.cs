using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Wren.Broker.Core;
using Wren.Protocol;
using Wren.Protocol.Messages;
using Wren.Storage;
using StoreRole = Wren.Storage.MemberRole;

namespace Wren.Fuzz;

/// <summary>
/// Fuzz target for the session state machine: a real <see cref="Session"/> of a real <see cref="BrokerCore"/> over a real
/// <see cref="WrenStore"/> (RocksDB in a temporary directory, created once per process), fed frame by frame the way the
/// connection's read loop feeds it.
/// </summary>
/// <remarks>
/// Input: one mode byte, then a byte stream of frames. Mode bits 0–1 choose a prelude the harness sends first, since a
/// fuzzer cannot guess a 256-bit token: 0 none (the stream starts the handshake), 1 a valid Hello, 2 Hello and Auth as
/// an ordinary user who owns group 1 and is in direct conversation 2 with a peer, 3 Hello and Auth as a server
/// administrator. Bit 2 makes the connection loopback (administration is refused otherwise); bits 3–7 seed the split
/// points of the stream.
/// A finding is any of: an exception out of the session, a frame not handled within 10 s, a log entry above
/// Information (nothing a client does may log higher), an <see cref="ErrorCode.InternalError"/> answer, or a frame the
/// session sends that does not decode.
/// </remarks>
internal sealed class HandshakeTarget : IAsyncDisposable
{
    /// <summary>Runs after which the harness starts over on a fresh store, so that what inputs create stays small.</summary>
    private const int RunsPerStore = 2000;

    private static readonly TimeSpan s_frameTimeout = TimeSpan.FromSeconds(10);
    private static readonly object s_gate = new();
    private static HandshakeTarget? s_current;

    /// <summary>Wraps the log the core writes to; set only by the negative controls, which then call <see cref="Reset"/>.</summary>
    internal static Func<IMessageLog, IMessageLog>? WrapLog { get; set; }

    private readonly string _directory;
    private readonly WrenStore _store;
    private readonly BrokerCore _core;
    private readonly CheckingLoggerFactory _logs = new();
    private readonly UserRecord _admin;
    private readonly UserRecord _user;
    private readonly ulong _group;
    private Credentials _userCredentials;
    private Credentials _adminCredentials;
    private int _runs;

    private HandshakeTarget()
    {
        string root = Path.Combine(Path.GetTempPath(), "wren-fuzz");
        DeleteAbandoned(root);
        _directory = Path.Combine(root, $"{Environment.ProcessId}-{Guid.NewGuid():N}");
        _store = WrenStore.Open(new StoreOptions { DataDirectory = Path.Combine(_directory, "db"), Durability = DurabilityMode.Async });
        _core = new BrokerCore(
            WrapLog?.Invoke(_store) ?? _store, _store, _store, _store,
            new BrokerLimits { SendsPerSecond = 1_000_000, Partitions = 2 },
            ProtocolLimits.Default,
            TimeProvider.System,
            _logs,
            statistics: _store,
            checkpoint: new SandboxCheckpoint(_store, Path.Combine(_directory, "checkpoints")),
            // Cheapest valid Argon2id cost: a fuzzed password login must not take a full production hash.
            auth: new AuthOptions { PasswordMemoryKiB = 8, PasswordIterations = 1 });

        _admin = Wait(_store.CreateUserAsync("admin", "Admin", isAdmin: true))!;
        _user = Wait(_store.CreateUserAsync("fuzz", "Fuzz"))!;
        var peer = Wait(_store.CreateUserAsync("peer", "Peer"))!;
        _group = Wait(_store.CreateGroupAsync(_user.UserId, "fuzz", [peer.UserId, _admin.UserId])).ConversationId;
        var direct = Wait(_store.GetOrCreateDirectAsync(_user.UserId, peer.UserId)).ConversationId;
        foreach (var (conversation, sender, text) in new[] { (_group, peer.UserId, "hello"), (_group, _user.UserId, "hi"), (direct, peer.UserId, "psst") })
        {
            Wait(_store.AppendAsync(new AppendRequest(conversation, sender, 1, "seed-" + text, 1, System.Text.Encoding.UTF8.GetBytes(text))));
        }

        _userCredentials = Issue(_user);
        _adminCredentials = Issue(_admin);
    }

    /// <summary>Runs one input against the process's harness (created on first use).</summary>
    public static void Run(ReadOnlySpan<byte> input)
    {
        lock (s_gate)
        {
            if (s_current is null)
            {
                s_current = new HandshakeTarget();
                AppDomain.CurrentDomain.ProcessExit += static (_, _) => Reset();
            }
            else if (s_current._runs >= RunsPerStore)
            {
                Reset();
                s_current = new HandshakeTarget();
            }

            s_current.RunOne(input);
        }
    }

    /// <summary>Disposes the process's harness and deletes its directory.</summary>
    public static void Reset()
    {
        lock (s_gate)
        {
            var current = s_current;
            s_current = null;
            current?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _core.DisposeAsync().ConfigureAwait(false);
        await _store.DisposeAsync().ConfigureAwait(false);
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temporary directory harms nothing.
        }
    }

    private void RunOne(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }

        _runs++;
        byte mode = input[0];
        Repair();
        _logs.Clear();

        var stream = new ArrayBufferWriter<byte>(input.Length + 256);
        int prelude = mode & 3;
        if (prelude >= 1)
        {
            FrameWriter.Write(stream, 1, new Hello { ClientName = "fuzz", ClientVersion = "1" });
        }

        if (prelude >= 2)
        {
            var credentials = prelude == 3 ? _adminCredentials : _userCredentials;
            FrameWriter.Write(stream, 2, new Auth { Method = AuthMethod.Token, Token = credentials.Token });
        }

        int preludeLength = stream.WrittenCount;
        input[1..].CopyTo(stream.GetSpan(input.Length - 1));
        stream.Advance(input.Length - 1);

        var sink = new RecordingSink(isLoopback: (mode & 4) != 0);
        var session = _core.CreateSession(sink);
        bool sentAny = false;
        try
        {
            var reader = new SequenceReader<byte>(Segments.Split(stream.WrittenMemory, (byte)(mode >> 3)));
            while (!sink.IsClosed)
            {
                var status = FrameReader.TryRead(ref reader, _core.ProtocolLimits.MaxFrameLength, out var frame, out var error);
                if (status == FrameStatus.NeedMoreData)
                {
                    break;
                }

                if (status == FrameStatus.Invalid)
                {
                    session.Fail(error, error.ToString());
                    break;
                }

                sentAny |= frame.Header.MessageType == MessageType.Send;
                bool open = Handle(session, frame);
                if (reader.Consumed == preludeLength && prelude >= 2)
                {
                    // The harness's own Hello and Auth are behind it: the session must be authenticated, or every input
                    // of this mode would test only the refusal of a bad token.
                    Check(open && session.IsAuthenticated, "the harness's own Auth did not authenticate");
                }

                if (!open)
                {
                    break;
                }
            }

            if (sentAny)
            {
                // The store's single writer commits in queue order: once this append is durable, every send of the input is.
                Wait(_store.AppendAsync(new AppendRequest(_group, _admin.UserId, _adminCredentials.DeviceId, Guid.NewGuid().ToString("N"), 1, ReadOnlyMemory<byte>.Empty)));
                sink.WaitForQuiet();
            }
        }
        finally
        {
            session.OnClosed();
        }

        Check(_logs.Worst is null, "logged above Information: " + _logs.Worst);
        foreach (var frame in sink.Frames)
        {
            CheckOutbound(frame);
        }
    }

    /// <summary>Hands one frame to the session and waits for it, as the read loop does.</summary>
    private static bool Handle(Session session, in Frame frame)
    {
        var handled = session.HandleAsync(frame);
        if (handled.IsCompleted)
        {
            return handled.Result;
        }

        var task = handled.AsTask();
        if (!task.Wait(s_frameTimeout))
        {
            throw new InvariantViolationException($"session: {frame.Header.MessageType} not handled within {s_frameTimeout.TotalSeconds} s");
        }

        return task.Result;
    }

    /// <summary>
    /// Every buffer the session queues is one or more whole frames (a catch-up batch holds several) that each decode;
    /// none reports an internal error.
    /// </summary>
    private void CheckOutbound(byte[] bytes)
    {
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(bytes));
        do
        {
            var status = FrameReader.TryRead(ref reader, _core.ProtocolLimits.MaxFrameLength, out var frame, out var error);
            Check(status == FrameStatus.Complete, $"sent a frame that does not read back ({status} {error})");
            var decoded = MessageCodec.TryDecode(frame, _core.ProtocolLimits, out var message);
            Check(decoded.IsSuccess, $"sent a {frame.Header.MessageType} that does not decode ({decoded.Error} {decoded.Field})");
            if (message is Error reply)
            {
                Check(reply.Code != ErrorCode.InternalError, $"answered InternalError to request {frame.Header.RequestId}: {reply.Message}");
            }
        }
        while (!reader.End);
    }

    /// <summary>Undoes what an input may have done to the harness's own accounts, so every input starts from the same footing.</summary>
    private void Repair()
    {
        foreach (var user in new[] { _user, _admin })
        {
            if (_store.GetUser(user.UserId) is { Disabled: true })
            {
                Wait(_store.SetDisabledAsync(user.UserId, false));
            }
        }

        if (_store.FindToken(Authenticator.Hash(_userCredentials.Token)) is not { Revoked: false })
        {
            _userCredentials = Issue(_user);
        }

        if (_store.FindToken(Authenticator.Hash(_adminCredentials.Token)) is not { Revoked: false })
        {
            _adminCredentials = Issue(_admin);
        }

        if (_store.GetMember(_group, _user.UserId) is not { Role: StoreRole.Owner })
        {
            Wait(_store.AddMembersAsync(_group, [_user.UserId], StoreRole.Owner));
            Wait(_store.SetRoleAsync(_group, _user.UserId, StoreRole.Owner));
        }
    }

    /// <summary>
    /// Deletes the directories of harnesses whose process has ended: a fuzzer ends its target with SIGKILL, so the
    /// process-exit clean-up does not run there.
    /// </summary>
    private static void DeleteAbandoned(string root)
    {
        if (!Directory.Exists(root))
        {
            return;
        }

        foreach (var directory in Directory.GetDirectories(root))
        {
            string name = Path.GetFileName(directory);
            int dash = name.IndexOf('-', StringComparison.Ordinal);
            if (dash <= 0 || !int.TryParse(name.AsSpan(0, dash), System.Globalization.CultureInfo.InvariantCulture, out int pid) || IsRunning(pid))
            {
                continue;
            }

            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // Best effort, as at exit.
            }
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private Credentials Issue(UserRecord user)
    {
        var issued = Wait(_core.Authenticator.IssueAsync(user, "fuzz"));
        return new Credentials(issued.Token, issued.Device.DeviceId);
    }

    private static T Wait<T>(ValueTask<T> task) => task.AsTask().GetAwaiter().GetResult();

    private static void Wait(ValueTask task) => task.AsTask().GetAwaiter().GetResult();

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvariantViolationException("session: " + what);
        }
    }

    private readonly record struct Credentials(string Token, uint DeviceId);

    /// <summary>The transport's outbound side, reduced to a list: frames are recorded, nothing is written anywhere.</summary>
    private sealed class RecordingSink(bool isLoopback) : IFrameSink
    {
        private readonly ConcurrentQueue<byte[]> _frames = new();
        private long _lastFrameTicks = Environment.TickCount64;
        private int _closed;

        public IEnumerable<byte[]> Frames => _frames;

        public bool IsClosed => Volatile.Read(ref _closed) != 0;

        public long PendingBytes => 0;

        public bool IsLoopback => isLoopback;

        public string RemoteAddress => "fuzz";

        public bool TrySend(ReadOnlyMemory<byte> frame)
        {
            if (IsClosed)
            {
                return false;
            }

            _frames.Enqueue(frame.ToArray());
            Volatile.Write(ref _lastFrameTicks, Environment.TickCount64);
            return true;
        }

        public Task WaitUntilPendingAtMostAsync(long bytes) => Task.CompletedTask;

        public void Close(ReadOnlyMemory<byte> finalFrame)
        {
            if (Interlocked.Exchange(ref _closed, 1) == 0)
            {
                _frames.Enqueue(finalFrame.ToArray());
            }
        }

        /// <summary>Waits until no frame has arrived for a few milliseconds (acks of sends complete on the store's thread).</summary>
        public void WaitForQuiet()
        {
            long deadline = Environment.TickCount64 + 2000;
            while (Environment.TickCount64 - Volatile.Read(ref _lastFrameTicks) < 5 && Environment.TickCount64 < deadline)
            {
                Thread.Sleep(1);
            }
        }
    }

    /// <summary>Writes real checkpoints of the store, but into the harness's own directory whatever path a request names.</summary>
    private sealed class SandboxCheckpoint(WrenStore store, string root) : IStoreCheckpoint
    {
        private int _count;

        public async Task CheckpointAsync(string targetDirectory)
        {
            Directory.CreateDirectory(root);
            string target = Path.Combine(root, Interlocked.Increment(ref _count).ToString(System.Globalization.CultureInfo.InvariantCulture));
            await store.CheckpointAsync(target).ConfigureAwait(false);
            Directory.Delete(target, recursive: true);
        }
    }

    /// <summary>Records the first log entry above Information.</summary>
    private sealed class CheckingLoggerFactory : ILoggerFactory, ILogger
    {
        private string? _worst;

        public string? Worst => Volatile.Read(ref _worst);

        public void Clear() => Volatile.Write(ref _worst, null);

        public ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel > LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel > LogLevel.Information)
            {
                Interlocked.CompareExchange(ref _worst, $"{logLevel} {eventId}: {formatter(state, exception)} {exception}", null);
            }
        }
    }
}
