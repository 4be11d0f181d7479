namespace Wren.Bench.Core;

/// <summary>
/// An open-loop schedule: message g (0, 1, 2, …) is due at <c>start + g / rate</c>, whatever the server does.
/// Latency is measured from the due time, not from the moment the send actually started, so a stalled server (or a
/// late generator) is charged for every message it delays: this is the coordinated-omission correction.
/// </summary>
/// <param name="StartTicks">Timestamp (in <paramref name="TicksPerSecond"/> units) at which message 0 is due.</param>
/// <param name="Rate">Messages per second over all senders.</param>
/// <param name="TicksPerSecond">Timestamp frequency, e.g. <see cref="System.Diagnostics.Stopwatch.Frequency"/>.</param>
public readonly record struct OpenLoopSchedule(long StartTicks, double Rate, long TicksPerSecond)
{
    /// <summary>The due timestamp of message <paramref name="index"/>.</summary>
    public long Due(long index) => StartTicks + (long)(index * (TicksPerSecond / Rate));

    /// <summary>How many messages are due in the first <paramref name="seconds"/> seconds.</summary>
    public long CountWithin(double seconds) => (long)Math.Ceiling(seconds * Rate);

    /// <summary>The sender of message <paramref name="index"/> when <paramref name="senders"/> senders take turns.</summary>
    public static int SenderOf(long index, int senders) => (int)(index % senders);

    /// <summary>
    /// Latency of a message due at <paramref name="due"/> that completed at <paramref name="completed"/>, in
    /// microseconds, clamped to [1, <paramref name="highestMicros"/>] so that it always fits the histogram.
    /// </summary>
    public long LatencyMicros(long due, long completed, long highestMicros) =>
        Math.Clamp((completed - due) * 1_000_000 / TicksPerSecond, 1, highestMicros);
}
