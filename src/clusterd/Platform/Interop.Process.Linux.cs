using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Clusterd.Platform;

/// <summary>pidfds, epoll, eventfd and the subreaper flag: how clusterd watches its workers on Linux (docs/adr/0005).</summary>
internal static partial class Interop
{
    // The same numbers on x86-64 and arm64; called through syscall(2) so that glibc 2.34/2.35 (no wrappers) work too.
    internal const long SysPidfdSendSignal = 424;
    internal const long SysPidfdOpen = 434;

    internal const int P_PIDFD = 3;
    internal const int PR_SET_CHILD_SUBREAPER = 36;
    internal const int EPOLL_CLOEXEC = 0x80000;
    internal const int EPOLL_CTL_ADD = 1;
    internal const int EPOLL_CTL_DEL = 2;
    internal const uint EPOLLIN = 0x1;
    internal const uint EPOLLPRI = 0x2;
    internal const uint EPOLLERR = 0x8;
    internal const int EFD_CLOEXEC = 0x80000;
    internal const int EFD_NONBLOCK = 0x800;

    [SupportedOSPlatform("linux")]
    [LibraryImport(Libc, EntryPoint = "syscall", SetLastError = true)]
    internal static partial int pidfd_open(long number, int pid, uint flags);

    [SupportedOSPlatform("linux")]
    [LibraryImport(Libc, EntryPoint = "syscall", SetLastError = true)]
    internal static partial int pidfd_send_signal(long number, int pidfd, int signal, nint info, uint flags);

    [SupportedOSPlatform("linux")]
    [LibraryImport(Libc, EntryPoint = "epoll_create1", SetLastError = true)]
    internal static partial int epoll_create1(int flags);

    [SupportedOSPlatform("linux")]
    [LibraryImport(Libc, EntryPoint = "epoll_ctl", SetLastError = true)]
    internal static unsafe partial int epoll_ctl(int epfd, int op, int fd, byte* @event);

    [SupportedOSPlatform("linux")]
    [LibraryImport(Libc, EntryPoint = "epoll_wait", SetLastError = true)]
    internal static unsafe partial int epoll_wait(int epfd, byte* events, int maxEvents, int timeout);

    [SupportedOSPlatform("linux")]
    [LibraryImport(Libc, EntryPoint = "eventfd", SetLastError = true)]
    internal static partial int eventfd(uint initval, int flags);

    [SupportedOSPlatform("linux")]
    [LibraryImport(Libc, EntryPoint = "gettid")]
    internal static partial int gettid();
}
