using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;
using System.Runtime.InteropServices;

namespace Clusterd.Platform;

internal static class Descriptors
{
    /// <summary>Clears or sets FD_CLOEXEC. clusterd clears it only for the span of one serialised spawn.</summary>
    public static void SetInheritable(SafeHandle handle, bool inheritable)
    {
        var fd = (int)handle.DangerousGetHandle();
        var flags = Interop.fcntl(fd, Interop.F_GETFD, 0);
        ErrnoException.ThrowIfFailed(flags, "fcntl(F_GETFD)");
        var next = inheritable ? flags & ~Interop.FD_CLOEXEC : flags | Interop.FD_CLOEXEC;
        ErrnoException.ThrowIfFailed(Interop.fcntl(fd, Interop.F_SETFD, next), "fcntl(F_SETFD)");
    }

    /// <summary>
    /// A connected AF_UNIX pair (a stream unless <paramref name="type"/> says otherwise), both ends close-on-exec. The
    /// parent's end is a <see cref="Socket"/> so waiting on it goes through the runtime's epoll/kqueue loop rather than
    /// a blocked thread.
    /// </summary>
    public static unsafe (Socket Parent, SafeSocketHandle Child) CreateSocketPair(SocketType type = SocketType.Stream)
    {
        var flags = (int)type | (OperatingSystem.IsLinux() ? LinuxConstants.SOCK_CLOEXEC : 0);
        var sv = stackalloc int[2];
        ErrnoException.ThrowIfFailed(Interop.socketpair(1 /* AF_UNIX */, flags, 0, sv), "socketpair");
        // Both handles own their descriptor: the parent end lives in the Socket, the child end is disposed
        // right after the spawn so that EOF on the parent end means "the child's copy is gone".
        var parent = new SafeSocketHandle(sv[0], ownsHandle: true);
        var child = new SafeSocketHandle(sv[1], ownsHandle: true);
        if (!OperatingSystem.IsLinux())
        {
            SetInheritable(parent, false);
            SetInheritable(child, false);
        }
        return (new Socket(parent), child);
    }

    /// <summary>
    /// A directory opened read-only and close-on-exec, for the *at calls (a worker's cgroup: the helper writes its
    /// cgroup.procs). No O_DIRECTORY, whose value differs between x86-64 and arm64: a file fails at the first *at call.
    /// </summary>
    public static SafeFileHandle OpenDirectory(string path)
    {
        var fd = Interop.open(path, Constants.OCloexec, 0); // O_RDONLY is 0
        ErrnoException.ThrowIfFailed(fd, $"open {path}");
        return new SafeFileHandle(fd, ownsHandle: true); // ours alone: the spawn gives the helper its own copy
    }

    /// <summary>
    /// What the non-blocking <paramref name="handle"/> holds now, read into <paramref name="buffer"/> without waiting:
    /// 0 when nothing is there (EAGAIN) or at EOF, which the next waiting read sees again.
    /// </summary>
    public static unsafe int ReadAvailable(SafeHandle handle, Span<byte> buffer)
    {
        fixed (byte* b = buffer)
        {
            while (true)
            {
                var n = Interop.read((int)handle.DangerousGetHandle(), b, buffer.Length);
                if (n >= 0)
                {
                    return (int)n;
                }
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Constants.EAgain)
                {
                    return 0;
                }
                if (errno != Interop.EINTR)
                {
                    throw new ErrnoException("read", errno);
                }
            }
        }
    }

    /// <summary>Sets O_NONBLOCK: reads of what is there must never wait (<see cref="ReadAvailable"/>).</summary>
    public static void SetNonBlocking(SafeHandle handle)
    {
        var fd = (int)handle.DangerousGetHandle();
        var flags = Interop.fcntl(fd, Interop.F_GETFL, 0);
        ErrnoException.ThrowIfFailed(flags, "fcntl(F_GETFL)");
        ErrnoException.ThrowIfFailed(Interop.fcntl(fd, Interop.F_SETFL, flags | Constants.ONonblock), "fcntl(F_SETFL)");
    }

    /// <summary>A pipe, both ends close-on-exec: a worker's stdout or stderr (the spawn dup2s the write end onto 1 or 2).</summary>
    public static unsafe (SafePipeHandle Read, SafePipeHandle Write) CreatePipe()
    {
        var fds = stackalloc int[2];
        if (OperatingSystem.IsLinux())
        {
            ErrnoException.ThrowIfFailed(Interop.pipe2(fds, LinuxConstants.O_CLOEXEC), "pipe2");
        }
        else
        {
            ErrnoException.ThrowIfFailed(Interop.pipe(fds), "pipe");
        }
        var read = new SafePipeHandle(fds[0], ownsHandle: true);
        var write = new SafePipeHandle(fds[1], ownsHandle: true);
        if (!OperatingSystem.IsLinux())
        {
            SetInheritable(read, false); // no pipe2: only the spawner thread forks, and it is the one running this
            SetInheritable(write, false);
        }
        return (read, write);
    }

    /// <summary>
    /// One <c>sendmsg</c> of <paramref name="payload"/> carrying <paramref name="fds"/> (SCM_RIGHTS; Linux's cmsghdr
    /// layout). Returns what sendmsg returns: the bytes sent, or -1 with the errno for Marshal.GetLastPInvokeError.
    /// </summary>
    public static unsafe nint SendWithDescriptors(SafeHandle socket, ReadOnlySpan<byte> payload, ReadOnlySpan<int> fds)
    {
        const int headerSize = 16; // cmsghdr: size_t len; int level; int type
        var controlLength = headerSize + (((4 * fds.Length) + 7) & ~7);
        var control = stackalloc byte[controlLength];
        new Span<byte>(control, controlLength).Clear();
        *(nint*)control = headerSize + (4 * fds.Length);
        *(int*)(control + 8) = LinuxConstants.SOL_SOCKET;
        *(int*)(control + 12) = LinuxConstants.SCM_RIGHTS;
        fds.CopyTo(new Span<int>(control + headerSize, fds.Length));
        fixed (byte* data = payload)
        {
            var iov = new Interop.IoVec { Base = (nint)data, Length = payload.Length };
            var msg = new Interop.MsgHdr { Iov = (nint)(&iov), IovLength = 1, Control = (nint)control, ControlLength = controlLength };
            return Interop.sendmsg((int)socket.DangerousGetHandle(), &msg, 0); // no SIGPIPE: the runtime ignores it
        }
    }
}

/// <summary>
/// The numbers of some handles, each handle referenced (open, so the number still ours) until this is disposed: for a
/// call that hands the numbers to a child or another process.
/// </summary>
internal sealed class BorrowedDescriptors : IDisposable
{
    private readonly IReadOnlyList<SafeHandle> _handles;
    private int _referenced;

    public BorrowedDescriptors(IReadOnlyList<SafeHandle> handles)
    {
        _handles = handles;
        Fds = new int[handles.Count];
        try
        {
            for (; _referenced < handles.Count; _referenced++)
            {
                var added = false;
                handles[_referenced].DangerousAddRef(ref added);
                Fds[_referenced] = (int)handles[_referenced].DangerousGetHandle();
            }
        }
        catch
        {
            Dispose(); // a handle already closed: release the ones referenced
            throw;
        }
    }

    public int[] Fds { get; }

    public void Dispose()
    {
        for (; _referenced > 0; _referenced--)
        {
            _handles[_referenced - 1].DangerousRelease();
        }
    }
}
