using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Wren.Bench.Core;

/// <summary>
/// Sleeps the pacer thread until a <see cref="Stopwatch"/> timestamp with sub-millisecond precision and without
/// spinning a core. <see cref="Thread.Sleep(int)"/> sleeps at least a whole millisecond: a pacer built on it sends
/// each message up to about 1.1 ms after its due time, and the open-loop latency (counted from the due time) then
/// carries up to a millisecond of the generator's own lateness, for every server alike.
/// </summary>
/// <remarks>
/// On Linux the thread's timer slack is set to 1 ns (<c>prctl(PR_SET_TIMERSLACK)</c>, 50 µs by default) and the wait
/// is a <c>nanosleep</c> for the time left, so a wake-up lands within tens of microseconds of the due time. A sleep
/// is never shorter than <see cref="Quantum"/>: above 1,000 messages per second the pacer wakes once per quantum
/// and sends every message that has come due, as the whole-millisecond pacer did (a shorter quantum was measured:
/// at W1 32,000 msg/s, 250 µs cost the generator 0.07 core more and raised p99 from 6.3-8.6 ms to 9.4-12.3 ms, the
/// machine being saturated); below that rate every message leaves at its due time. Elsewhere the wait falls back to
/// whole-millisecond sleeps.
/// </remarks>
public static class PacerClock
{
    /// <summary>Shortest sleep: 1 ms.</summary>
    public static readonly TimeSpan Quantum = TimeSpan.FromMilliseconds(1);

    private const int PrSetTimerSlack = 29;
    private const int Eintr = 4;

    /// <summary>Prepares the calling thread for precise sleeps (Linux: 1 ns timer slack); false when not possible.</summary>
    public static bool UsePreciseTimers()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            return Native.prctl(PrSetTimerSlack, 1, 0, 0, 0) == 0;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Returns when <see cref="Stopwatch.GetTimestamp"/> has reached <paramref name="due"/>.</summary>
    public static void WaitUntil(long due)
    {
        long quantumTicks = (long)(Quantum.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            long left = due - Stopwatch.GetTimestamp();
            if (left <= 0)
            {
                return;
            }

            if (!OperatingSystem.IsLinux())
            {
                Thread.Sleep(1);
                continue;
            }

            long nanos = Math.Max(left, quantumTicks) * 1_000_000_000 / Stopwatch.Frequency;
            var request = new Native.Timespec { Seconds = nanos / 1_000_000_000, Nanoseconds = nanos % 1_000_000_000 };
            if (Native.nanosleep(ref request, IntPtr.Zero) != 0 && Marshal.GetLastPInvokeError() != Eintr)
            {
                Thread.Sleep(1);
            }
        }
    }

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Interoperability", "SYSLIB1054", Justification = "DllImport needs no unsafe code; the project builds without AllowUnsafeBlocks.")]
    private static class Native
    {
        [StructLayout(LayoutKind.Sequential)]
        internal struct Timespec
        {
            public long Seconds;
            public long Nanoseconds;
        }

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int nanosleep(ref Timespec request, IntPtr remaining);

        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int prctl(int option, ulong argument2, ulong argument3, ulong argument4, ulong argument5);
    }
}
