using System.Net.Security;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Wren.Broker;

/// <summary>
/// Keeps an idle TLS connection's native memory small. OpenSSL frees its record buffers whenever they are empty
/// (<c>SSL_MODE_RELEASE_BUFFERS</c>, the default of nginx and HAProxy: about 30 KiB less per idle connection, see
/// docs/benchmarks.md, W4), and the two memory BIOs .NET moves ciphertext through are given back their buffers after a
/// burst of large records (<see cref="TryShrinkIdleBios"/>): a memory BIO keeps the largest buffer it ever needed, so a
/// connection that once sent or received a 16 KiB record would otherwise hold 22 to 44 KiB more for as long as it stays
/// connected.
/// </summary>
/// <remarks>
/// .NET exposes neither, so the native <c>SSL*</c> is taken from <see cref="SslStream"/>'s private security context on
/// Linux. Every step is checked; when the runtime's layout differs, or the platform is not OpenSSL, nothing happens and
/// the connection simply keeps its buffers. <see cref="TryReleaseWhenIdle"/> runs before the stream is read or written
/// concurrently (right after the handshake), so the mode never changes under an SSL_read or SSL_write;
/// <see cref="TryShrinkIdleBios"/> holds the stream's own lock around encryption and decryption while it swaps a BIO's
/// buffer, and swaps only an empty one.
/// </remarks>
internal static class OpenSslBuffers
{
    private const int SslCtrlMode = 33;
    private const long SslModeReleaseBuffers = 0x10;

    private static readonly FieldInfo? SecurityContext =
        OperatingSystem.IsLinux() ? typeof(SslStream).GetField("_securityContext", BindingFlags.NonPublic | BindingFlags.Instance) : null;

    private static readonly SslCtrl? Ctrl = LoadSslCtrl();

    private delegate long SslCtrl(IntPtr ssl, int command, long argument, IntPtr pointer);

    private delegate IntPtr SslGetBio(IntPtr ssl);

    private delegate long BioCtrlGet(IntPtr bio, int command, long argument, out IntPtr pointer);

    private delegate long BioCtrlSet(IntPtr bio, int command, long argument, IntPtr pointer);

    private delegate int BioMethodType(IntPtr bio);

    private delegate IntPtr BufMemNew();

    private delegate void BufMemFree(IntPtr buffer);

    // OpenSSL's constants (bio.h): a memory BIO's type, and the controls that get and replace its BUF_MEM.
    private const int BioTypeMem = 1 | 0x0400;
    private const int BioCtrlSetBufMem = 114;
    private const int BioCtrlGetBufMemPtr = 115;
    private const long BioClose = 1;

    /// <summary>
    /// SslStream's lock around every encryption and decryption (and so every use of the BIOs): a private property in
    /// .NET 10, a private field before.
    /// </summary>
    private static readonly Func<SslStream, object?>? HandshakeLock = FindHandshakeLock();

    private static readonly BioFunctions? Bio = BioFunctions.Load();

    /// <summary>True when idle BIO buffers can be given back on this platform and runtime.</summary>
    public static bool CanShrinkBios => SecurityContext is not null && HandshakeLock is not null && Bio is not null && IntPtr.Size == 8;

    /// <summary>
    /// Gives back the buffer of each of the stream's two memory BIOs that is empty and larger than
    /// <paramref name="keepBytes"/> (the next record allocates what it needs). Returns the bytes released, 0 when there
    /// was nothing to release or it is not possible here. Safe to call while the stream is read and written.
    /// </summary>
    public static long TryShrinkIdleBios(SslStream stream, int keepBytes)
    {
        if (!CanShrinkBios || SecurityContext!.GetValue(stream) is not SafeHandle { IsInvalid: false, IsClosed: false } handle
            || HandshakeLock!(stream) is not { } gate)
        {
            return 0;
        }

        bool added = false;
        try
        {
            // The reference keeps the SSL (and the BIOs it owns) alive should the stream be disposed meanwhile.
            handle.DangerousAddRef(ref added);
            lock (gate)
            {
                var ssl = handle.DangerousGetHandle();
                return Bio!.Shrink(Bio.ReadBio(ssl), keepBytes) + Bio.Shrink(Bio.WriteBio(ssl), keepBytes);
            }
        }
        catch (ObjectDisposedException)
        {
            return 0;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

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

    private static Func<SslStream, object?>? FindHandshakeLock()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        const BindingFlags Private = BindingFlags.NonPublic | BindingFlags.Instance;
        if (typeof(SslStream).GetProperty("_handshakeLock", Private) is { GetMethod: not null } property)
        {
            return stream => property.GetValue(stream);
        }

        return typeof(SslStream).GetField("_handshakeLock", Private) is { } field ? stream => field.GetValue(stream) : null;
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

    /// <summary>The libssl and libcrypto functions the BIO shrinking uses (the same libraries the runtime loaded).</summary>
    private sealed class BioFunctions
    {
        private BioFunctions(SslGetBio readBio, SslGetBio writeBio, BioCtrlGet ctrlGet, BioCtrlSet ctrlSet, BioMethodType methodType, BufMemNew bufMemNew, BufMemFree bufMemFree)
        {
            ReadBio = readBio;
            WriteBio = writeBio;
            _ctrlGet = ctrlGet;
            _ctrlSet = ctrlSet;
            _methodType = methodType;
            _bufMemNew = bufMemNew;
            _bufMemFree = bufMemFree;
        }

        private readonly BioCtrlGet _ctrlGet;
        private readonly BioCtrlSet _ctrlSet;
        private readonly BioMethodType _methodType;
        private readonly BufMemNew _bufMemNew;
        private readonly BufMemFree _bufMemFree;

        public SslGetBio ReadBio { get; }

        public SslGetBio WriteBio { get; }

        public static BioFunctions? Load()
        {
            if (!OperatingSystem.IsLinux())
            {
                return null;
            }

            foreach (var (ssl, crypto) in (ReadOnlySpan<(string, string)>)[("libssl.so.3", "libcrypto.so.3"), ("libssl.so.1.1", "libcrypto.so.1.1")])
            {
                if (NativeLibrary.TryLoad(ssl, out var libssl) && NativeLibrary.TryLoad(crypto, out var libcrypto)
                    && NativeLibrary.TryGetExport(libssl, "SSL_get_rbio", out var rbio)
                    && NativeLibrary.TryGetExport(libssl, "SSL_get_wbio", out var wbio)
                    && NativeLibrary.TryGetExport(libcrypto, "BIO_ctrl", out var ctrl)
                    && NativeLibrary.TryGetExport(libcrypto, "BIO_method_type", out var methodType)
                    && NativeLibrary.TryGetExport(libcrypto, "BUF_MEM_new", out var bufMemNew)
                    && NativeLibrary.TryGetExport(libcrypto, "BUF_MEM_free", out var bufMemFree))
                {
                    return new BioFunctions(
                        Marshal.GetDelegateForFunctionPointer<SslGetBio>(rbio),
                        Marshal.GetDelegateForFunctionPointer<SslGetBio>(wbio),
                        Marshal.GetDelegateForFunctionPointer<BioCtrlGet>(ctrl),
                        Marshal.GetDelegateForFunctionPointer<BioCtrlSet>(ctrl),
                        Marshal.GetDelegateForFunctionPointer<BioMethodType>(methodType),
                        Marshal.GetDelegateForFunctionPointer<BufMemNew>(bufMemNew),
                        Marshal.GetDelegateForFunctionPointer<BufMemFree>(bufMemFree));
                }
            }

            return null;
        }

        /// <summary>The capacity of a memory BIO's buffer, or -1 when it is not a memory BIO or still holds data.</summary>
        public long IdleCapacity(IntPtr bio)
        {
            if (bio == IntPtr.Zero || _methodType(bio) != BioTypeMem || _ctrlGet(bio, BioCtrlGetBufMemPtr, 0, out var buffer) <= 0 || buffer == IntPtr.Zero)
            {
                return -1;
            }

            // BUF_MEM is { size_t length; char *data; size_t max; unsigned long flags; }.
            long length = Marshal.ReadInt64(buffer, 0);
            long max = Marshal.ReadInt64(buffer, 16);
            return length == 0 ? max : -1;
        }

        /// <summary>Replaces an empty memory BIO's buffer larger than <paramref name="keepBytes"/> by a new empty one.</summary>
        public long Shrink(IntPtr bio, int keepBytes)
        {
            long capacity = IdleCapacity(bio);
            if (capacity <= keepBytes)
            {
                return 0;
            }

            var fresh = _bufMemNew();
            if (fresh == IntPtr.Zero)
            {
                return 0;
            }

            // The BIO frees its old buffer and owns the new one (BIO_CLOSE), as it owned the old.
            if (_ctrlSet(bio, BioCtrlSetBufMem, BioClose, fresh) <= 0)
            {
                _bufMemFree(fresh);
                return 0;
            }

            return capacity;
        }
    }

    /// <summary>The idle capacity of the stream's read and write BIOs (-1 each when unknown), for tests and diagnostics.</summary>
    internal static (long Read, long Write) IdleBioCapacity(SslStream stream)
    {
        if (!CanShrinkBios || SecurityContext!.GetValue(stream) is not SafeHandle { IsInvalid: false, IsClosed: false } handle
            || HandshakeLock!(stream) is not { } gate)
        {
            return (-1, -1);
        }

        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            lock (gate)
            {
                var ssl = handle.DangerousGetHandle();
                return (Bio!.IdleCapacity(Bio.ReadBio(ssl)), Bio.IdleCapacity(Bio.WriteBio(ssl)));
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }
}
