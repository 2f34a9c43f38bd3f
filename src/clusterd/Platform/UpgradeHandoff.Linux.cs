using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace Clusterd.Platform;

/// <summary>
/// The system calls of an in-place upgrade (docs/adr/0008): the state in a sealed memfd, the running executable held
/// open, descriptors made inheritable by number for the one exec, and the exec itself.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class UpgradeHandoff
{
    /// <summary>
    /// A memfd holding <paramref name="content"/>, sealed against any change (whoever reads it reads what was written),
    /// close-on-exec until <see cref="SetInheritable"/> says otherwise. The caller owns the handle.
    /// </summary>
    public static SafeFileHandle CreateSealed(string name, ReadOnlySpan<byte> content)
    {
        var fd = Interop.memfd_create(name, Interop.MFD_CLOEXEC | Interop.MFD_ALLOW_SEALING);
        ErrnoException.ThrowIfFailed(fd, "memfd_create");
        var handle = new SafeFileHandle(fd, ownsHandle: true); // ours: closed once the exec has taken it, or failed
        try
        {
            RandomAccess.Write(handle, content, fileOffset: 0);
            var seals = Interop.F_SEAL_WRITE | Interop.F_SEAL_GROW | Interop.F_SEAL_SHRINK | Interop.F_SEAL_SEAL;
            ErrnoException.ThrowIfFailed(Interop.fcntl(fd, Interop.F_ADD_SEALS, seals), "fcntl(F_ADD_SEALS)");
        }
        catch
        {
            handle.Dispose();
            throw;
        }
        return handle;
    }

    /// <summary>
    /// The file this process runs, close-on-exec until <see cref="SetInheritable"/> says otherwise: the image a fallback
    /// must exec even once a package has renamed another file over its path, which /proc/self/exe still names (as
    /// "PATH (deleted)"). O_PATH: executing it needs only the execute permission, not read. The caller owns the handle.
    /// </summary>
    public static SafeFileHandle OpenOwnExecutable()
    {
        var fd = Interop.open("/proc/self/exe", Interop.O_PATH | LinuxConstants.O_CLOEXEC, 0);
        ErrnoException.ThrowIfFailed(fd, "open(/proc/self/exe)");
        return new SafeFileHandle(fd, ownsHandle: true); // the caller's: closed once the exec has taken it, or failed
    }

    /// <summary>Everything in the memfd (or any file) at <paramref name="fd"/>, read without moving its offset.</summary>
    public static byte[] ReadAll(int fd)
    {
        // Not ours to close: the fd must stay open for a fallback exec of the old binary until adoption is done.
        using var handle = new SafeFileHandle(fd, ownsHandle: false);
        var length = RandomAccess.GetLength(handle);
        var bytes = new byte[length];
        var read = 0;
        while (read < length)
        {
            var n = RandomAccess.Read(handle, bytes.AsSpan(read), read);
            if (n == 0)
            {
                throw new IOException($"fd {fd}: the upgrade state ended after {read} of {length} bytes");
            }
            read += n;
        }
        return bytes;
    }

    /// <summary>Clears (or sets again) FD_CLOEXEC on an fd known only by number.</summary>
    public static void SetInheritable(int fd, bool inheritable)
    {
        var flags = Interop.fcntl(fd, Interop.F_GETFD, 0);
        ErrnoException.ThrowIfFailed(flags, $"fcntl({fd}, F_GETFD)");
        var next = inheritable ? flags & ~Interop.FD_CLOEXEC : flags | Interop.FD_CLOEXEC;
        ErrnoException.ThrowIfFailed(Interop.fcntl(fd, Interop.F_SETFD, next), $"fcntl({fd}, F_SETFD)");
    }

    /// <summary>
    /// Replaces the process image, keeping the pid and the calling thread: with the file open at
    /// <paramref name="executable"/> if given (<paramref name="path"/> then only names it in an error), else with the
    /// file at <paramref name="path"/>. Returns only by throwing.
    /// </summary>
    public static unsafe void Exec(string path, SafeHandle? executable, IReadOnlyList<string> argv, IReadOnlyList<string> environment)
    {
        var strings = new List<nint>(argv.Count + environment.Count);
        var args = new byte*[argv.Count + 1]; // NULL-terminated
        var env = new byte*[environment.Count + 1];
        try
        {
            for (var i = 0; i < argv.Count; i++)
            {
                strings.Add((nint)(args[i] = (byte*)Marshal.StringToCoTaskMemUTF8(argv[i])));
            }
            for (var i = 0; i < environment.Count; i++)
            {
                strings.Add((nint)(env[i] = (byte*)Marshal.StringToCoTaskMemUTF8(environment[i])));
            }
            var file = (byte*)Marshal.StringToCoTaskMemUTF8(path);
            strings.Add((nint)file);
            fixed (byte** a = args)
            fixed (byte** e = env)
            {
                if (executable is null)
                {
                    _ = Interop.execve(file, a, e);
                    throw ErrnoException.FromLastError($"execve({path})");
                }
                _ = Interop.fexecve((int)executable.DangerousGetHandle(), a, e);
                throw ErrnoException.FromLastError($"fexecve({path}, held open since before the upgrade)");
            }
        }
        finally
        {
            foreach (var s in strings)
            {
                Marshal.FreeCoTaskMem(s);
            }
        }
    }
}
