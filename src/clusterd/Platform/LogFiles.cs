using Microsoft.Win32.SafeHandles;

namespace Clusterd.Platform;

/// <summary>
/// The files clusterd writes worker lines to: opened without following a symbolic link, created 0640, and only ever
/// written when clusterd's own user owns them (docs/security.md, "Log files").
/// </summary>
internal static class LogFiles
{
    private const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead; // 0640

    /// <summary>Opens <paramref name="path"/> for appending, creating it if it is missing.</summary>
    /// <exception cref="IOException">open failed (ELOOP: a symbolic link is there), or the file is not clusterd's.</exception>
    public static SafeFileHandle OpenAppend(string path) =>
        Open(path, Constants.OWrOnly | Constants.OAppend | Constants.OCreat | Constants.ONoFollow | Constants.OCloexec);

    /// <summary>Creates <paramref name="path"/>, which must not exist (a rotated file's compressed copy).</summary>
    public static SafeFileHandle Create(string path) =>
        Open(path, Constants.OWrOnly | Constants.OCreat | Constants.OExcl | Constants.ONoFollow | Constants.OCloexec);

    private static SafeFileHandle Open(string path, int flags)
    {
        var fd = Interop.open(path, flags, (uint)Mode);
        ErrnoException.ThrowIfFailed(fd, $"open {path}");
        var handle = new SafeFileHandle(fd, ownsHandle: true); // ours alone: close-on-exec, no worker inherits it
        // O_NOFOLLOW ruled out a link; a file someone else made (or a hard link to one) is not ours to write into.
        var status = FileStatus.Of(path);
        if (status.Kind != FileKind.Regular || status.Uid != UserDatabase.EffectiveUid)
        {
            handle.Dispose();
            throw new IOException($"{path} is {status.Describe()} of uid {status.Uid}, not a file clusterd created; move it away or set another 'file'");
        }
        // 0640 whatever the umask: the log group (LogsDirectory's) reads, nobody else.
        File.SetUnixFileMode(handle, Mode);
        return handle;
    }

    /// <summary>Writes all of <paramref name="data"/>; 0, or the errno of the write that failed (ENOSPC: the disk is full).</summary>
    public static unsafe int Append(SafeFileHandle file, ReadOnlySpan<byte> data)
    {
        var added = false;
        file.DangerousAddRef(ref added);
        try
        {
            var fd = (int)file.DangerousGetHandle();
            fixed (byte* start = data)
            {
                var done = 0;
                while (done < data.Length)
                {
                    var n = Interop.write(fd, start + done, data.Length - done);
                    if (n < 0)
                    {
                        var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                        if (errno == 4) // EINTR
                        {
                            continue;
                        }
                        return errno;
                    }
                    done += (int)n;
                }
            }
            return 0;
        }
        finally
        {
            if (added)
            {
                file.DangerousRelease();
            }
        }
    }

    /// <summary>A file clusterd may replace or remove: nothing there, or a regular file of clusterd's own user.</summary>
    public static bool IsOursOrMissing(string path)
    {
        var status = FileStatus.Of(path);
        return status.Kind == FileKind.Missing || (status.Kind == FileKind.Regular && status.Uid == UserDatabase.EffectiveUid);
    }
}
