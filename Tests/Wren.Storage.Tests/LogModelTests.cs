using System.Collections.Concurrent;
using System.Text;
using CsCheck;

namespace Wren.Storage.Tests;

/// <summary>
/// Model-based test of the conversation log: random sequences of appends (with client message ids reused on purpose),
/// bursts of appends that share a group commit, range reads, head queries, cursor moves and close/reopen of the store,
/// run against a real <see cref="WrenStore"/> in a temporary directory and an in-memory model. After every operation
/// the store must equal the model: every log entry by entry, every head, every cursor.
/// </summary>
public class LogModelTests
{
    private const int Iterations = 25;
    private const int ConversationCount = 3;

    /// <summary>Conversation index that names a conversation the store does not have.</summary>
    private const int Missing = ConversationCount;

    private static readonly ulong[] s_senders = [1, 2];

    [Fact]
    public void The_log_matches_an_in_memory_model_through_appends_reads_cursors_and_reopens()
    {
        var seen = Run(Fault.None, Iterations);

        // The sequences reached every outcome the model distinguishes (a run that never did is no evidence).
        Assert.All(
            new[] { AppendStatus.Appended, AppendStatus.Duplicate, AppendStatus.Conflict, AppendStatus.NotFound },
            status => Assert.True(seen.Count(status.ToString()) > 0, $"no append answered {status}"));
        Assert.True(seen.Count("burst") > 0, "no burst of appends ran");
        Assert.True(seen.Count("reopen") > 0, "the store was never reopened");
        Assert.True(seen.Count("read entries") > 0, "no read returned entries");
        Assert.True(seen.Count("cursor moved") > 0, "no cursor moved");
    }

    [Fact]
    public void The_checker_catches_a_store_that_acknowledges_an_append_it_never_wrote()
    {
        // Negative control: the third append that the store would add is acknowledged but not written.
        var failure = Assert.Throws<CsCheckException>(() => Run(Fault.DropThirdAppend, Iterations));
        Assert.Contains("diverges", failure.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_checker_catches_a_store_that_writes_an_append_twice()
    {
        // Negative control: the third append that the store would add is written twice (a retry stored as a new entry).
        var failure = Assert.Throws<CsCheckException>(() => Run(Fault.DuplicateThirdAppend, Iterations));
        Assert.Contains("diverges", failure.ToString(), StringComparison.Ordinal);
    }

    private static Seen Run(Fault fault, int iterations)
    {
        var created = new ConcurrentBag<RealLog>();
        var seen = new Seen();
        // The model is updated by the real side's driver (RealLog.Apply), which asks it for the expected outcome of each
        // operation before comparing; the model-side actions therefore do nothing. Appends are listed twice and reads are
        // split in two so that a sequence is mostly writes and reads, with a reopen now and then.
        var append = Gen.Select(Gen.Int[0, ConversationCount], Gen.Int[0, s_senders.Length - 1], Gen.Int[0, 5], Gen.Int[0, 3], Gen.Int[1, 2])
            .Select((c, s, id, body, kind) => new AppendOp(c, s, id, body, (ushort)kind))
            .Operation<RealLog, Model>((real, op) => real.Apply(op), (_, _) => { });
        var operations = new[]
        {
            append,
            append,
            Gen.Select(Gen.Int[0, ConversationCount - 1], Gen.Int[0, s_senders.Length - 1], Gen.Int[0, 5], Gen.Int[0, 3]).Array[2, 6]
                .Select(Gen.Int[1, 2], (items, kind) => new BurstOp([.. items.Select(i => new AppendOp(i.Item1, i.Item2, i.Item3, i.Item4, (ushort)kind))]))
                .Operation<RealLog, Model>((real, op) => real.Apply(op), (_, _) => { }),
            Gen.Select(Gen.Int[0, ConversationCount], Gen.Int[0, 12], Gen.Int[-1, 8])
                .Select((c, position, limit) => new ReadOp(c, (ulong)position, limit, Before: false))
                .Operation<RealLog, Model>((real, op) => real.Apply(op), (_, _) => { }),
            Gen.Select(Gen.Int[0, ConversationCount], Gen.Int[0, 12], Gen.Int[-1, 8])
                .Select((c, position, limit) => new ReadOp(c, (ulong)position, limit, Before: true))
                .Operation<RealLog, Model>((real, op) => real.Apply(op), (_, _) => { }),
            Gen.Select(Gen.Int[0, ConversationCount], Gen.Int[0, s_senders.Length - 1], Gen.Int[1, 2], Gen.Int[0, 14], Gen.Bool)
                .Select((c, u, device, seq, read) => new CursorOp(c, u, (uint)device, (ulong)seq, read))
                .Operation<RealLog, Model>((real, op) => real.Apply(op), (_, _) => { }),
            Gen.Const("Reopen").Operation<RealLog, Model>((real, _) => real.Reopen(), (_, _) => { }),
        };

        try
        {
            Gen.Const(() =>
            {
                var model = new Model();
                var real = new RealLog(fault, model, seen);
                created.Add(real);
                return (real, model);
            })
            .SampleModelBased(
                operations,
                equal: (real, model) =>
                {
                    real.Verify(model);
                    real.Close();
                    return true;
                },
                iter: iterations,
                threads: 2,
                printActual: real => real.Describe(),
                printModel: model => model.Describe());
        }
        finally
        {
            foreach (var real in created)
            {
                real.Dispose();
            }
        }

        return seen;
    }

    /// <summary>How often each kind of outcome occurred in a run.</summary>
    private sealed class Seen
    {
        private readonly ConcurrentDictionary<string, int> _counts = new();

        public void Add(string what) => _counts.AddOrUpdate(what, 1, (_, n) => n + 1);

        public int Count(string what) => _counts.GetValueOrDefault(what);
    }

    private enum Fault
    {
        None,
        DropThirdAppend,
        DuplicateThirdAppend,
    }

    private static string ClientMsgId(int id) => "m" + id;

    private static byte[] Body(int body) => Encoding.UTF8.GetBytes("body-" + body);

    private sealed record AppendOp(int Conversation, int Sender, int Id, int Body, ushort Kind)
    {
        public override string ToString() => $"Append(c{Conversation}, u{s_senders[Sender]}, m{Id}, body-{Body}, kind {Kind})";
    }

    private sealed record BurstOp(AppendOp[] Appends)
    {
        public override string ToString() => $"Burst[{string.Join(", ", Appends.Select(a => a.ToString()))}]";
    }

    private sealed record ReadOp(int Conversation, ulong Position, int Limit, bool Before)
    {
        public override string ToString() => Before ? $"ReadBefore(c{Conversation}, {Position}, {Limit})" : $"ReadRange(c{Conversation}, {Position}, {Limit})";
    }

    private sealed record CursorOp(int Conversation, int User, uint Device, ulong Seq, bool Read)
    {
        public override string ToString() => Read ? $"AdvanceRead(u{s_senders[User]}, c{Conversation}, {Seq})" : $"AdvanceDelivered(u{s_senders[User]}, d{Device}, c{Conversation}, {Seq})";
    }

    private sealed record ModelEntry(ulong Seq, ulong Sender, string ClientMsgId, ushort Kind, byte[] Body, long ServerTimeMs);

    /// <summary>What the log must hold: entries per conversation, the dedup table, cursors.</summary>
    private sealed class Model
    {
        public List<ModelEntry>[] Logs { get; } = [.. Enumerable.Range(0, ConversationCount).Select(_ => new List<ModelEntry>())];

        public Dictionary<(ulong Sender, string ClientMsgId), (int Conversation, ulong Seq)> Dedup { get; } = [];

        public Dictionary<(ulong User, uint Device, int Conversation), ulong> Delivered { get; } = [];

        public Dictionary<(ulong User, int Conversation), ulong> Read { get; } = [];

        /// <summary>The expected outcome of an append: Appended (entry is null until the store gives its time), Duplicate with the original, Conflict or NotFound.</summary>
        public (AppendStatus Status, ModelEntry? Entry) Expect(AppendOp op)
        {
            if (op.Conversation == Missing)
            {
                return (AppendStatus.NotFound, null);
            }

            if (Dedup.TryGetValue((s_senders[op.Sender], ClientMsgId(op.Id)), out var first))
            {
                var original = Logs[first.Conversation][(int)first.Seq - 1];
                return first.Conversation == op.Conversation && original.Kind == op.Kind && original.Body.AsSpan().SequenceEqual(Body(op.Body))
                    ? (AppendStatus.Duplicate, original)
                    : (AppendStatus.Conflict, null);
            }

            return (AppendStatus.Appended, null);
        }

        public ModelEntry Add(AppendOp op, long serverTimeMs)
        {
            var log = Logs[op.Conversation];
            var entry = new ModelEntry((ulong)log.Count + 1, s_senders[op.Sender], ClientMsgId(op.Id), op.Kind, Body(op.Body), serverTimeMs);
            log.Add(entry);
            Dedup[(entry.Sender, entry.ClientMsgId)] = (op.Conversation, entry.Seq);
            return entry;
        }

        public string Describe() =>
            string.Join("; ", Logs.Select((log, c) => $"c{c}: [{string.Join(", ", log.Select(e => $"{e.Seq}:{e.ClientMsgId}/u{e.Sender}"))}]"))
            + $"; delivered {Delivered.Count}, read {Read.Count}";
    }

    /// <summary>The store under test, in its own temporary directory, optionally behind a faulty wrapper (the negative controls).</summary>
    private sealed class RealLog : IDisposable
    {
        private readonly string _directory = TestStore.NewDirectory();
        private readonly Fault _fault;
        private readonly Model _model;
        private readonly Seen _seen;
        private readonly List<string> _trace = [];
        private readonly ulong[] _conversations;
        private WrenStore? _store;
        private int _appended;

        public RealLog(Fault fault, Model model, Seen seen)
        {
            _fault = fault;
            _model = model;
            _seen = seen;
            var store = Store;
            _conversations = [.. Enumerable.Range(0, ConversationCount).Select(i => store.CreateGroupAsync(1, "c" + i, [2]).AsTask().GetAwaiter().GetResult().ConversationId)];
        }

        /// <summary>The open store; opened again on first use after <see cref="Close"/>.</summary>
        private WrenStore Store => _store ??= WrenStore.Open(new StoreOptions
        {
            DataDirectory = _directory,

            // Durability is not what this test is about (the crash tests are): unsynced writes keep it fast.
            Durability = DurabilityMode.Async,
            BlockCacheBytes = 1024 * 1024,
        });

        private ulong ConversationId(int index) => index == Missing ? 999_999 : _conversations[index];

        public void Apply(AppendOp op)
        {
            var model = _model;
            _trace.Add(op.ToString());
            var expected = model.Expect(op);
            var result = AppendAsync(op).AsTask().GetAwaiter().GetResult();
            CheckAppend(model, op, expected, result);
            Verify(model);
        }

        public void Apply(BurstOp burst)
        {
            var model = _model;
            // Issued without waiting in between, so that several land in one group commit (in-batch dedup), then awaited.
            _trace.Add(burst.ToString());
            _seen.Add("burst");
            var pending = burst.Appends.Select(op => (Op: op, Task: AppendAsync(op).AsTask())).ToList();
            foreach (var (op, task) in pending)
            {
                CheckAppend(model, op, model.Expect(op), task.GetAwaiter().GetResult());
            }

            Verify(model);
        }

        public void Apply(ReadOp op)
        {
            var model = _model;
            _trace.Add(op.ToString());
            var id = ConversationId(op.Conversation);
            var log = op.Conversation == Missing ? [] : model.Logs[op.Conversation];
            IEnumerable<ModelEntry> expected;
            IReadOnlyList<LogEntry> actual;
            if (op.Before)
            {
                actual = Store.ReadBefore(id, op.Position, op.Limit);
                ulong last = op.Position == 0 ? (ulong)log.Count : Math.Min(op.Position - 1, (ulong)log.Count);
                expected = op.Limit <= 0 ? [] : log.Where(e => e.Seq <= last).TakeLast(op.Limit);
            }
            else
            {
                actual = Store.ReadRange(id, op.Position, op.Limit);
                expected = op.Limit <= 0 ? [] : log.Where(e => e.Seq >= Math.Max(op.Position, 1)).Take(op.Limit);
            }

            Same(op.Conversation, [.. expected], actual, op.ToString());
            if (actual.Count > 0)
            {
                _seen.Add("read entries");
            }

            Verify(model);
        }

        public void Apply(CursorOp op)
        {
            var model = _model;
            _trace.Add(op.ToString());
            var id = ConversationId(op.Conversation);
            ulong user = s_senders[op.User];
            ulong head = op.Conversation == Missing ? 0 : (ulong)model.Logs[op.Conversation].Count;
            ulong actual;
            ulong expected;
            if (op.Read)
            {
                actual = Store.AdvanceRead(user, id, op.Seq);
                if (op.Conversation == Missing)
                {
                    expected = 0;
                }
                else
                {
                    expected = Math.Max(model.Read.GetValueOrDefault((user, op.Conversation)), Math.Min(op.Seq, head));
                    model.Read[(user, op.Conversation)] = expected;
                }
            }
            else
            {
                actual = Store.AdvanceDelivered(user, op.Device, id, op.Seq);
                if (op.Conversation == Missing)
                {
                    expected = 0;
                }
                else
                {
                    expected = Math.Max(model.Delivered.GetValueOrDefault((user, op.Device, op.Conversation)), Math.Min(op.Seq, head));
                    model.Delivered[(user, op.Device, op.Conversation)] = expected;
                }
            }

            Check(actual == expected, $"{op} returned {actual}, the model says {expected}");
            if (expected > 0)
            {
                _seen.Add("cursor moved");
            }

            Verify(model);
        }

        public void Reopen()
        {
            _trace.Add("Reopen");
            _seen.Add("reopen");
            Close();
            Verify(_model);
        }

        /// <summary>The whole store against the whole model: heads, every entry of every log, every cursor the model knows.</summary>
        public void Verify(Model model)
        {
            var store = Store;
            Check(store.GetHead(ConversationId(Missing)) is null, "a missing conversation has a head");
            for (int c = 0; c < ConversationCount; c++)
            {
                var log = model.Logs[c];
                var head = store.GetHead(_conversations[c]);
                Check(head == new LogHead(1, (ulong)log.Count), $"c{c}: head {head}, the model has epoch 1 head {log.Count}");
                Same(c, log, store.ReadRange(_conversations[c], 1, log.Count + 1), "the whole log");
            }

            foreach (var ((user, device, c), seq) in model.Delivered)
            {
                var actual = store.GetDelivered(user, device, _conversations[c]);
                Check(actual == seq, $"delivered cursor u{user} d{device} c{c} is {actual}, the model says {seq}");
            }

            foreach (var ((user, c), seq) in model.Read)
            {
                var actual = store.GetRead(user, _conversations[c]);
                Check(actual == seq, $"read cursor u{user} c{c} is {actual}, the model says {seq}");
            }
        }

        /// <summary>Closes the store cleanly; the next use opens it again on the same directory.</summary>
        public void Close()
        {
            _store?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            _store = null;
        }

        public string Describe() => string.Join(" → ", _trace);

        public void Dispose()
        {
            Close();
            TestStore.DeleteDirectory(_directory);
        }

        private ValueTask<AppendResult> AppendAsync(AppendOp op)
        {
            var request = new AppendRequest(ConversationId(op.Conversation), s_senders[op.Sender], 1, ClientMsgId(op.Id), op.Kind, Body(op.Body));
            return _fault == Fault.None ? Store.AppendAsync(request) : FaultyAppendAsync(request);
        }

        /// <summary>The negative controls: the third append the store would add is dropped (but acknowledged) or written twice.</summary>
        private async ValueTask<AppendResult> FaultyAppendAsync(AppendRequest request)
        {
            var store = Store;
            bool wouldAppend = store.GetHead(request.ConversationId) is not null && !store.DedupRecordExists(request.SenderUserId, request.ClientMsgId);
            if (!wouldAppend || Interlocked.Increment(ref _appended) != 3)
            {
                return await store.AppendAsync(request);
            }

            if (_fault == Fault.DropThirdAppend)
            {
                var head = store.GetHead(request.ConversationId)!.Value;
                return new AppendResult(AppendStatus.Appended, new LogEntry(
                    request.ConversationId, head.Head + 1, head.Epoch, request.SenderUserId, request.SenderDeviceId,
                    DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), request.ClientMsgId, request.Kind, request.Body));
            }

            await store.AppendAsync(request with { ClientMsgId = request.ClientMsgId + "-again" });
            return await store.AppendAsync(request);
        }

        private void CheckAppend(Model model, AppendOp op, (AppendStatus Status, ModelEntry? Entry) expected, AppendResult result)
        {
            _seen.Add(result.Status.ToString());
            Check(result.Status == expected.Status, $"{op}: {result.Status}, the model says {expected.Status}");
            switch (expected.Status)
            {
                case AppendStatus.Appended:
                    var entry = model.Add(op, result.Entry!.ServerTimeMs);
                    SameEntry(op.Conversation, entry, result.Entry, op.ToString());
                    break;
                case AppendStatus.Duplicate:
                    SameEntry(op.Conversation, expected.Entry!, result.Entry!, op + " (the original entry)");
                    break;
                default:
                    Check(result.Entry is null, $"{op}: {result.Status} with an entry");
                    break;
            }
        }

        private void Same(int conversation, IReadOnlyList<ModelEntry> expected, IReadOnlyList<LogEntry> actual, string what)
        {
            Check(actual.Count == expected.Count, $"c{conversation} {what}: {actual.Count} entries, the model has {expected.Count}");
            for (int i = 0; i < expected.Count; i++)
            {
                SameEntry(conversation, expected[i], actual[i], what);
            }
        }

        private static void SameEntry(int conversation, ModelEntry expected, LogEntry actual, string what) =>
            Check(
                actual.Seq == expected.Seq && actual.Epoch == 1 && actual.SenderUserId == expected.Sender && actual.SenderDeviceId == 1
                    && actual.ClientMsgId == expected.ClientMsgId && actual.Kind == expected.Kind && actual.ServerTimeMs == expected.ServerTimeMs
                    && actual.Body.Span.SequenceEqual(expected.Body),
                $"c{conversation} {what}: entry {actual.Seq}:{actual.ClientMsgId}/u{actual.SenderUserId} kind {actual.Kind} "
                + $"'{Encoding.UTF8.GetString(actual.Body.Span)}', the model has {expected.Seq}:{expected.ClientMsgId}/u{expected.Sender} "
                + $"kind {expected.Kind} '{Encoding.UTF8.GetString(expected.Body)}'");

        private static void Check(bool condition, string what)
        {
            if (!condition)
            {
                throw new InvalidOperationException("store diverges from the model: " + what);
            }
        }
    }
}
