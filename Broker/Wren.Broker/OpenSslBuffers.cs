using System.Net.Security;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Wren.Broker;

/// <summary>
/// Asks OpenSSL to free a TLS connection's record buffers whenever they are empty (<c>SSL_MODE_RELEASE_BUFFERS</c>,
/// the default of nginx and HAProxy). An idle connection then holds no read or write buffer in OpenSSL: about 30 KiB
/// less per idle TLS connection (see docs/benchmarks.md, W4).
/// </summary>
/// <remarks>
/// .NET does not expose the mode, so the native <c>SSL*</c> is taken from <see cref="SslStream"/>'s private security
/// context on Linux. Every step is checked; when the runtime's layout differs, or the platform is not OpenSSL, nothing
/// happens and the connection simply keeps its buffers. Call it before the stream is read or written concurrently
/// (right after the handshake), so the mode never changes under an SSL_read or SSL_write.
/// </remarks>
internal static class OpenSslBuffers
{
    private const int SslCtrlMode = 33;
    private const long SslModeReleaseBuffers = 0x10;

    private static readonly FieldInfo? SecurityContext =
        OperatingSystem.IsLinux() ? typeof(SslStream).GetField("_securityContext", BindingFlags.NonPublic | BindingFlags.Instance) : null;

    private static readonly SslCtrl? Ctrl = LoadSslCtrl();

    private delegate long SslCtrl(IntPtr ssl, int command, long argument, IntPtr pointer);

    /// <summary>True when the mode can be set on this platform and runtime.</summary>
    public static bool IsSupported => SecurityContext is not null && Ctrl is not null;

    /// <summary>Sets SSL_MODE_RELEASE_BUFFERS on the stream's SSL object; false when that is not possible here.</summary>
    public static bool TryReleaseWhenIdle(SslStream stream)
    {
        if (!IsSupported || SecurityContext!.GetValue(stream) is not SafeHandle { IsInvalid: false, IsClosed: false } handle)
        {
            return false;
        }

        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return (Ctrl!(handle.DangerousGetHandle(), SslCtrlMode, SslModeReleaseBuffers, IntPtr.Zero) & SslModeReleaseBuffers) != 0;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    private static SslCtrl? LoadSslCtrl()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        // The same libssl the runtime's System.Security.Cryptography.Native uses (3.x, else 1.1).
        foreach (var name in (string[])["libssl.so.3", "libssl.so.1.1", "libssl.so"])
        {
            if (NativeLibrary.TryLoad(name, out var library) && NativeLibrary.TryGetExport(library, "SSL_ctrl", out var export))
            {
                return Marshal.GetDelegateForFunctionPointer<SslCtrl>(export);
            }
        }

        return null;
    }
}
