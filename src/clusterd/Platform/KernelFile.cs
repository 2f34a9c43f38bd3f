using System.Buffers.Text;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Clusterd.Platform;

/// <summary>
/// Small files the kernel writes as they are read (/proc, cgroupfs), read with open, read and close into the caller's
/// buffer: no FileStream, StreamReader or strings, and no exception for a file that is gone. `status`, every scrape
/// and the health checks read several per worker, and at 1000 workers the managed layers cost more than the kernel.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class KernelFile
{
    /// <summary>The size of a buffer for <see cref="TryJoin"/>: PATH_MAX, NUL included; no path the kernel opens is longer.</summary>
    public const int PathBufferSize = 4096;

    // "/proc/" + a pid of at most 10 digits + "/stat" + NUL.
    private const int ProcStatPathSize = 32;

    /// <summary>/proc/PID/stat (proc(5)) into <paramref name="buffer"/>: see <see cref="Read(ReadOnlySpan{byte}, Span{byte})"/>.</summary>
    public static int ReadProcStat(int pid, Span<byte> buffer)
    {
        Span<byte> path = stackalloc byte[ProcStatPathSize];
        "/proc/"u8.CopyTo(path);
        Utf8Formatter.TryFormat(pid, path["/proc/".Length..], out var digits);
        var end = "/proc/".Length + digits;
        "/stat\0"u8.CopyTo(path[end..]);
        return Read(path[..(end + "/stat\0".Length)], buffer);
    }

    /// <summary>
    /// How many bytes one read gave (the file's start, as much as fits), or -1 if it cannot be opened or read: the
    /// process or cgroup is gone, or hidden (hidepid). <paramref name="path"/> is UTF-8 and ends with a NUL.
    /// </summary>
    public static int Read(ReadOnlySpan<byte> path, Span<byte> buffer)
    {
        using var file = Open(path, out _);
        return file is null ? -1 : ReadOnce(file, buffer);
    }

    /// <summary>The file at <paramref name="path"/> (UTF-8, NUL-terminated), or null and why not (errno).</summary>
    public static SafeFileHandle? Open(ReadOnlySpan<byte> path, out int errno)
    {
        var fd = Interop.open(path, LinuxConstants.O_CLOEXEC, 0); // O_RDONLY is 0
        errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return fd < 0 ? null : new SafeFileHandle(fd, ownsHandle: true); // the caller's: closed once read
    }

    /// <summary>One read(2) from the file's current offset: the bytes read (0 at its end), or -1 if it failed.</summary>
    public static int ReadOnce(SafeFileHandle file, Span<byte> buffer) => (int)Interop.read(file, buffer, buffer.Length);

    /// <summary>
    /// <paramref name="directory"/>/<paramref name="name"/> as a NUL-terminated UTF-8 path in <paramref name="buffer"/>
    /// (<see cref="PathBufferSize"/> bytes); false if it would be longer than the kernel takes.
    /// </summary>
    public static bool TryJoin(string directory, ReadOnlySpan<byte> name, Span<byte> buffer, out ReadOnlySpan<byte> path)
    {
        path = default;
        if (Encoding.UTF8.GetMaxByteCount(directory.Length) + 1 + name.Length + 1 > Math.Min(buffer.Length, PathBufferSize))
        {
            return false;
        }
        var length = Encoding.UTF8.GetBytes(directory, buffer);
        buffer[length++] = (byte)'/';
        name.CopyTo(buffer[length..]);
        length += name.Length;
        buffer[length++] = 0;
        path = buffer[..length];
        return true;
    }
}
