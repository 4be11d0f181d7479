using Wren.Bench.Core;

namespace Wren.Bench.Tests;

/// <summary>
/// The end of a window: messages the server has not answered by the end of the drain are counted as unfinished, and
/// the run then waits (unmeasured) for that backlog to clear, so that a sweep's next window does not start behind it.
/// </summary>
public class OpenLoopRunTests
{
    /// <summary>
    /// A server that answers nothing until released, well after the drain: the window reports every measured message
    /// as unfinished, and the run returns only after the release. With no settle time (the control) it returns before
    /// the release, so the check can tell the two apart.
    /// </summary>
    [Theory]
    [InlineData(60, true)]
    [InlineData(0, false)]
    public async Task A_window_with_a_backlog_returns_once_the_backlog_has_cleared(double settleSeconds, bool expectReleasedFirst)
    {
        await using var session = new HeldSession();
        var options = new OpenLoopOptions
        {
            WarmupSeconds = 0,
            DurationSeconds = 0.2,
            DrainSeconds = 0.2,
            SettleSeconds = settleSeconds,
            Progress = false,
        };

        // The release comes long after the drain ends (about 0.6 s after the start).
        _ = session.ReleaseAfterAsync(TimeSpan.FromSeconds(3));
        var result = await OpenLoopRun.RunAsync(session, rate: 50, options);
        bool releasedFirst = session.Released;

        Assert.True(result.Unfinished > 0, "every measured message was still waiting at the end of the drain");
        Assert.Equal(expectReleasedFirst, releasedFirst);
    }

    /// <summary>One sender and one receiver; every send is answered and delivered when <see cref="ReleaseAfterAsync"/> releases it.</summary>
    private sealed class HeldSession : IMessagingSession
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly List<byte[]> _sent = [];
        private DeliveryHandler? _onDelivery;

        public int Senders => 1;

        public int ReceiversPerMessage => 1;

        public int Connections => 1;

        public string Durability => "test";

        public bool Released { get; private set; }

        public void StartReceiving(DeliveryHandler onDelivery, CancellationToken cancellationToken) => _onDelivery = onDelivery;

        public Task SendAsync(int sender, ReadOnlyMemory<byte> body)
        {
            lock (_sent)
            {
                _sent.Add(body.ToArray());
            }

            return _release.Task;
        }

        public async Task ReleaseAfterAsync(TimeSpan delay)
        {
            await Task.Delay(delay);
            Released = true;
            _release.TrySetResult();
            lock (_sent)
            {
                foreach (var body in _sent)
                {
                    _onDelivery?.Invoke(body);
                }
            }
        }

        public ValueTask DisposeAsync()
        {
            _release.TrySetResult();
            return ValueTask.CompletedTask;
        }
    }
}
