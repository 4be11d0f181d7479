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

    // OpenSSL's constants (bio.h): a memory BIO's type, and the controls that get and replace its BUF_MEM.
    private const int BioTypeMem = 1 | 0x0400;
    private const int BioCtrlSetBufMem = 114;
    private const int BioCtrlGetBufMemPtr = 115;
    private const long BioClose = 1;

    private static readonly FieldInfo? SecurityContext =
        OperatingSystem.IsLinux() ? typeof(SslStream).GetField("_securityContext", BindingFlags.NonPublic | BindingFlags.Instance) : null;

    /// <summary>
    /// SslStream's lock around every encryption and decryption (and so every use of the BIOs): a private property in
    /// .NET 10, a private field before.
    /// </summary>
    private static readonly Func<SslStream, object?>? HandshakeLock = FindHandshakeLock();

    private static readonly Native? Ssl = Native.Load();

    private delegate long SslCtrl(IntPtr ssl, int command, long argument, IntPtr pointer);

    private delegate IntPtr SslGetBio(IntPtr ssl);

    private delegate long BioCtrlGet(IntPtr bio, int command, long argument, out IntPtr pointer);

    private delegate long BioCtrlSet(IntPtr bio, int command, long argument, IntPtr pointer);

    private delegate int BioMethodType(IntPtr bio);

    private delegate IntPtr BufMemNew();

    private delegate void BufMemFree(IntPtr buffer);

    /// <summary>True when the mode can be set on this platform and runtime.</summary>
    public static bool IsSupported => SecurityContext is not null && Ssl is not null;

    /// <summary>True when idle BIO buffers can be given back on this platform and runtime.</summary>
    public static bool CanShrinkBios => IsSupported && HandshakeLock is not null && IntPtr.Size == 8;

    /// <summary>Sets SSL_MODE_RELEASE_BUFFERS on the stream's SSL object; false when that is not possible here.</summary>
    public static bool TryReleaseWhenIdle(SslStream stream) =>
        IsSupported && WithSsl(stream, locked: false, 0, static (ssl, _) =>
            (Ssl!.Ctrl(ssl, SslCtrlMode, SslModeReleaseBuffers, IntPtr.Zero) & SslModeReleaseBuffers) != 0, fallback: false);

    /// <summary>
    /// Gives back the buffer of each of the stream's two memory BIOs that is empty and larger than
    /// <paramref name="keepBytes"/> (the next record allocates what it needs). Returns the bytes released, 0 when there
    /// was nothing to release or it is not possible here. Safe to call while the stream is read and written.
    /// </summary>
    public static long TryShrinkIdleBios(SslStream stream, int keepBytes) =>
        CanShrinkBios
            ? WithSsl(stream, locked: true, keepBytes, static (ssl, keep) => Ssl!.Shrink(Ssl.ReadBio(ssl), keep) + Ssl.Shrink(Ssl.WriteBio(ssl), keep), fallback: 0L)
            : 0;

    /// <summary>The idle capacity of the stream's read and write BIOs (-1 each when unknown), for tests and diagnostics.</summary>
    internal static (long Read, long Write) IdleBioCapacity(SslStream stream) =>
        CanShrinkBios
            ? WithSsl(stream, locked: true, 0, static (ssl, _) => (Ssl!.IdleCapacity(Ssl.ReadBio(ssl)), Ssl.IdleCapacity(Ssl.WriteBio(ssl))), fallback: (-1L, -1L))
            : (-1, -1);

    /// <summary>
    /// Runs <paramref name="work"/> on the stream's native <c>SSL*</c> while holding a reference to it (so a concurrent
    /// dispose cannot free it, or the BIOs it owns), and with <paramref name="locked"/> also SslStream's own lock around
    /// encryption and decryption. <paramref name="fallback"/> when the handle is gone or the lock is not found.
    /// </summary>
    private static T WithSsl<TState, T>(SslStream stream, bool locked, TState state, Func<IntPtr, TState, T> work, T fallback)
    {
        if (SecurityContext!.GetValue(stream) is not SafeHandle { IsInvalid: false, IsClosed: false } handle)
        {
            return fallback;
        }

        object? gate = locked ? HandshakeLock!(stream) : null;
        if (locked && gate is null)
        {
            return fallback;
        }

        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            if (gate is null)
            {
                return work(handle.DangerousGetHandle(), state);
            }

            lock (gate)
            {
                return work(handle.DangerousGetHandle(), state);
            }
        }
        catch (ObjectDisposedException)
        {
            // Closed between the check and the reference.
            return fallback;
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

    /// <summary>The libssl and libcrypto functions used here: the same libraries the runtime's TLS loaded (3.x, else 1.1).</summary>
    private sealed class Native
    {
        private readonly BioCtrlGet _ctrlGet;
        private readonly BioCtrlSet _ctrlSet;
        private readonly BioMethodType _methodType;
        private readonly BufMemNew _bufMemNew;
        private readonly BufMemFree _bufMemFree;

        private Native(IntPtr libssl, IntPtr libcrypto)
        {
            Ctrl = Function<SslCtrl>(libssl, "SSL_ctrl");
            ReadBio = Function<SslGetBio>(libssl, "SSL_get_rbio");
            WriteBio = Function<SslGetBio>(libssl, "SSL_get_wbio");
            _ctrlGet = Function<BioCtrlGet>(libcrypto, "BIO_ctrl");
            _ctrlSet = Function<BioCtrlSet>(libcrypto, "BIO_ctrl");
            _methodType = Function<BioMethodType>(libcrypto, "BIO_method_type");
            _bufMemNew = Function<BufMemNew>(libcrypto, "BUF_MEM_new");
            _bufMemFree = Function<BufMemFree>(libcrypto, "BUF_MEM_free");
        }

        public SslCtrl Ctrl { get; }

        public SslGetBio ReadBio { get; }

        public SslGetBio WriteBio { get; }

        public static Native? Load()
        {
            if (!OperatingSystem.IsLinux())
            {
                return null;
            }

            foreach (var (ssl, crypto) in (ReadOnlySpan<(string, string)>)[("libssl.so.3", "libcrypto.so.3"), ("libssl.so.1.1", "libcrypto.so.1.1")])
            {
                if (NativeLibrary.TryLoad(ssl, out var libssl) && NativeLibrary.TryLoad(crypto, out var libcrypto))
                {
                    try
                    {
                        return new Native(libssl, libcrypto);
                    }
                    catch (EntryPointNotFoundException)
                    {
                        // Not the OpenSSL this code knows: nothing is changed, connections keep their buffers.
                    }
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

        private static TDelegate Function<TDelegate>(IntPtr library, string name)
            where TDelegate : Delegate =>
            NativeLibrary.TryGetExport(library, name, out var export)
                ? Marshal.GetDelegateForFunctionPointer<TDelegate>(export)
                : throw new EntryPointNotFoundException(name);
    }
}
