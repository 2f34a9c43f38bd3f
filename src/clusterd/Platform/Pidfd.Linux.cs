using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace Clusterd.Platform;

/// <summary>
/// A process file descriptor (Linux 5.3+): a handle on one process that can never come to mean another, even after
/// the pid is reused. clusterd signals and waits for its workers' main processes through one.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class Pidfd
{
    private const int CLD_EXITED = 1;
    private const int CLD_KILLED = 2;
    private const int CLD_DUMPED = 3;
    private const int WCoreFlag = 0x80;

    /// <summary>Opens a pidfd for a child not yet reaped (so the pid still names it). Owns the descriptor.</summary>
    public static SafeFileHandle Open(int pid)
    {
        var fd = Interop.pidfd_open(Interop.SysPidfdOpen, pid, 0);
        ErrnoException.ThrowIfFailed(fd, $"pidfd_open({pid})");
        // pidfd_open sets O_CLOEXEC itself; the handle closes it.
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>False when the process has exited (ESRCH): the signal reached nobody, and never another process.</summary>
    public static bool Signal(SafeFileHandle pidfd, int signal)
    {
        if (Interop.pidfd_send_signal(Interop.SysPidfdSendSignal, (int)pidfd.DangerousGetHandle(), signal, 0, 0) == 0)
        {
            return true;
        }
        var errno = Marshal.GetLastPInvokeError();
        return errno == 3 /* ESRCH */ ? false : throw new ErrnoException($"pidfd_send_signal({signal})", errno);
    }

    /// <summary>
    /// The wait status of an exited process, without reaping it (<paramref name="reap"/> false) or reaping it; null if it
    /// has not exited yet. Only the parent may ask.
    /// </summary>
    public static unsafe int? TryWait(SafeFileHandle pidfd, bool reap)
    {
        var info = stackalloc byte[128]; // siginfo_t
        new Span<byte>(info, 128).Clear();
        var options = Interop.WEXITED | Interop.WNOHANG | (reap ? 0 : LinuxConstants.WNOWAIT);
        if (Interop.waitid(Interop.P_PIDFD, (int)pidfd.DangerousGetHandle(), info, options) != 0)
        {
            throw ErrnoException.FromLastError("waitid(P_PIDFD)");
        }
        var pid = *(int*)(info + 16);  // si_pid: 0 while the process still runs
        var code = *(int*)(info + 8);  // si_code
        var status = *(int*)(info + 24); // si_status
        return pid == 0 ? null : code switch
        {
            CLD_EXITED => (status & 0xff) << 8,
            CLD_KILLED => status & 0x7f,
            CLD_DUMPED => (status & 0x7f) | WCoreFlag,
            _ => status,
        };
    }

    /// <summary>
    /// Waits for the process to exit and reaps it; returns at once if someone else reaped it (ECHILD: clusterd's orphan
    /// reaper takes any child it does not track). Only for a process that is ending: it blocks until then.
    /// </summary>
    public static unsafe void Reap(SafeFileHandle pidfd)
    {
        const int EINTR = 4, ECHILD = 10;
        var info = stackalloc byte[128]; // siginfo_t
        while (Interop.waitid(Interop.P_PIDFD, (int)pidfd.DangerousGetHandle(), info, Interop.WEXITED) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == ECHILD)
            {
                return;
            }
            if (errno != EINTR)
            {
                throw new ErrnoException("waitid(P_PIDFD)", errno);
            }
        }
    }
}
