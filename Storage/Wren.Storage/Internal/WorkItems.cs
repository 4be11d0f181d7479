using System.Threading.Tasks.Sources;

namespace Wren.Storage.Internal;

/// <summary>Something the writer thread does.</summary>
internal abstract class WorkItem
{
}

/// <summary>One append waiting for the writer; it is its own awaitable (no Task per append).</summary>
internal sealed class PendingAppend : WorkItem, IValueTaskSource<AppendResult>
{
    private ManualResetValueTaskSourceCore<AppendResult> _core;

    public PendingAppend(AppendRequest request, ulong bodyHash, CancellationToken cancellationToken, AppendCompletion completion = AppendCompletion.ThreadPool)
    {
        _core = new() { RunContinuationsAsynchronously = completion != AppendCompletion.OnWriter };
        Request = request;
        BodyHash = bodyHash;
        CancellationToken = cancellationToken;
    }

    public AppendRequest Request { get; }

    public ulong BodyHash { get; }

    public CancellationToken CancellationToken { get; }

    /// <summary>The new entry once staged in a batch.</summary>
    public LogEntry? Entry { get; set; }

    /// <summary>Set when this append repeats one staged earlier in the same batch.</summary>
    public PendingAppend? DuplicateOf { get; set; }

    /// <summary>Set when this append conflicts with one staged earlier in the same batch.</summary>
    public bool InBatchConflict { get; set; }

    /// <summary>When the dedup record of a new entry expires (set when the append is staged).</summary>
    public long DedupExpiresMs { get; set; }

    public ValueTask<AppendResult> AsValueTask() => new(this, _core.Version);

    public void Complete(AppendResult result) => _core.SetResult(result);

    public void Fail(Exception exception) => _core.SetException(exception);

    public AppendResult GetResult(short token) => _core.GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}

/// <summary>A store operation run on the writer thread between batches.</summary>
internal abstract class WriterOperation : WorkItem
{
    public abstract void Run();

    public abstract void Fail(Exception exception);
}

/// <summary>A store operation with a result.</summary>
internal sealed class WriterOperation<T>(Func<T> body) : WriterOperation
{
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<T> Task => _completion.Task;

    public override void Run()
    {
        try
        {
            _completion.SetResult(body());
        }
        catch (Exception e)
        {
            _completion.SetException(e);
        }
    }

    public override void Fail(Exception exception) => _completion.TrySetException(exception);
}
