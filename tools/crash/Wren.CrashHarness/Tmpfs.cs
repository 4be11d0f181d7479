using System.Diagnostics;
using System.Globalization;

namespace Wren.CrashHarness;

/// <summary>The file system could not be mounted (not root, no mount permission in this container): the scenario cannot run.</summary>
public sealed class MountUnavailableException(string message) : Exception(message);

/// <summary>
/// A size-limited tmpfs mounted on a new temporary directory (<c>mount -t tmpfs -o size=N</c>), so a data directory can
/// be filled for real: writes past the size fail with ENOSPC. Needs root (or CAP_SYS_ADMIN); unmounted on dispose.
/// </summary>
public sealed class Tmpfs : IDisposable
{
    private Tmpfs(string path, int sizeMiB)
    {
        Path = path;
        SizeMiB = sizeMiB;
    }

    /// <summary>The mount point.</summary>
    public string Path { get; }

    /// <summary>The file system's size.</summary>
    public int SizeMiB { get; }

    /// <summary>Mounts a tmpfs of <paramref name="sizeMiB"/> MiB on a new temporary directory.</summary>
    /// <exception cref="MountUnavailableException">mount failed (typically: not permitted here).</exception>
    public static Tmpfs Mount(int sizeMiB)
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "wren-tmpfs-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(path);
        var (code, error) = Run("mount", "-t", "tmpfs", "-o", "size=" + sizeMiB.ToString(CultureInfo.InvariantCulture) + "m", "tmpfs", path);
        if (code != 0)
        {
            TryDeleteDirectory(path);
            throw new MountUnavailableException($"mount -t tmpfs failed ({code}): {error.Trim()}");
        }

        return new Tmpfs(path, sizeMiB);
    }

    /// <summary>True when a tmpfs can be mounted here (tries a 1 MiB one and unmounts it); <paramref name="reason"/> says why not.</summary>
    public static bool CanMount(out string reason)
    {
        if (!OperatingSystem.IsLinux())
        {
            reason = "tmpfs mounts need Linux";
            return false;
        }

        try
        {
            using var probe = Mount(1);
            reason = "";
            return true;
        }
        catch (Exception ex) when (ex is MountUnavailableException or System.ComponentModel.Win32Exception or IOException or UnauthorizedAccessException)
        {
            reason = "cannot mount a size-limited tmpfs here (needs root or CAP_SYS_ADMIN): " + ex.Message;
            return false;
        }
    }

    /// <summary>Fills the file system with <paramref name="fileName"/> until a write fails with no space left; returns its size.</summary>
    public long Fill(string fileName)
    {
        var path = System.IO.Path.Combine(Path, fileName);
        long written = 0;
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);
        foreach (var chunk in new[] { 1 << 20, 64 << 10, 4 << 10, 512 })
        {
            var block = new byte[chunk];
            try
            {
                while (true)
                {
                    stream.Write(block);
                    written += chunk;
                }
            }
            catch (IOException)
            {
                // No space for this chunk size: go on with a smaller one.
            }
        }

        try
        {
            stream.Flush(flushToDisk: true);
        }
        catch (IOException)
        {
            // Nothing is buffered (buffer size 1); the file system is full.
        }

        return written;
    }

    /// <summary>Free bytes of the file system.</summary>
    public long FreeBytes => new DriveInfo(Path).AvailableFreeSpace;

    /// <inheritdoc/>
    public void Dispose()
    {
        if (Run("umount", Path).Code != 0)
        {
            // Still busy (a process holds a file): detach it now, the kernel frees it when the last file closes.
            Run("umount", "-l", Path);
        }

        TryDeleteDirectory(Path);
    }

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // Left behind in the temp directory.
        }
    }

    private static (int Code, string Error) Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new MountUnavailableException(file + " did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (-1, file + ": " + ex.Message);
        }

        using var _ = process;
        var error = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, error);
    }
}
