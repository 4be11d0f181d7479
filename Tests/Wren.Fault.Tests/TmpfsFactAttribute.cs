using Wren.CrashHarness;

namespace Wren.Fault.Tests;

/// <summary>
/// A fact that needs a size-limited tmpfs (root or CAP_SYS_ADMIN). Where none can be mounted, the test is reported as
/// skipped with the reason mount gave; it never passes without running.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class TmpfsFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> Unavailable = new(() => Tmpfs.CanMount(out var reason) ? null : reason);

    /// <summary>Sets <see cref="FactAttribute.Skip"/> when no tmpfs can be mounted here.</summary>
    public TmpfsFactAttribute()
    {
        if (Unavailable.Value is { } reason)
        {
            Skip = reason;
        }
    }
}
