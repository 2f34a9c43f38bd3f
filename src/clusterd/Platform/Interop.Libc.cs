using System.Runtime.InteropServices;

namespace Clusterd.Platform;

/// <summary>
/// libc calls that .NET has no managed API for. C names, blittable signatures; callers turn
/// a failure into <see cref="ErrnoException"/> right away so errno is never read late.
/// </summary>
internal static partial class Interop
{
    private const string Libc = "libc";

    internal const int F_GETFD = 1;
    internal const int F_SETFD = 2;
    internal const int F_GETFL = 3; // the same on macOS
    internal const int F_SETFL = 4;
    internal const int EINTR = 4;
    internal const int FD_CLOEXEC = 1;

    internal const int SIGKILL = 9;
    internal const int SIGTERM = 15;

    [LibraryImport(Libc, EntryPoint = "fcntl", SetLastError = true)]
    internal static partial int fcntl(int fd, int cmd, int arg);

    [LibraryImport(Libc, EntryPoint = "read", SetLastError = true)]
    internal static unsafe partial nint read(int fd, byte* buf, nint count);

    [LibraryImport(Libc, EntryPoint = "dup2", SetLastError = true)]
    internal static partial int dup2(int oldfd, int newfd);

    [LibraryImport(Libc, EntryPoint = "close", SetLastError = true)]
    internal static partial int close(int fd);

    [LibraryImport(Libc, EntryPoint = "kill", SetLastError = true)]
    internal static partial int kill(int pid, int sig);

    [LibraryImport(Libc, EntryPoint = "getpid")]
    internal static partial int getpid();

    [LibraryImport(Libc, EntryPoint = "getppid")]
    internal static partial int getppid();

    [LibraryImport(Libc, EntryPoint = "geteuid")]
    internal static partial uint geteuid();

    [LibraryImport(Libc, EntryPoint = "setsid", SetLastError = true)]
    internal static partial int setsid();

    [LibraryImport(Libc, EntryPoint = "setuid", SetLastError = true)]
    internal static partial int setuid(uint uid);

    [LibraryImport(Libc, EntryPoint = "setgid", SetLastError = true)]
    internal static partial int setgid(uint gid);

    [LibraryImport(Libc, EntryPoint = "initgroups", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int initgroups(string user, uint group);

    [LibraryImport(Libc, EntryPoint = "setgroups", SetLastError = true)]
    internal static partial int setgroups(nint size, ReadOnlySpan<uint> list);

    [LibraryImport(Libc, EntryPoint = "chdir", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int chdir(string path);

    [LibraryImport(Libc, EntryPoint = "getpeereid", SetLastError = true)]
    internal static partial int getpeereid(int socket, out uint euid, out uint egid);

    [LibraryImport(Libc, EntryPoint = "access", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int access(string path, int mode);

    internal const int X_OK = 1;

    [LibraryImport(Libc, EntryPoint = "signal")]
    internal static partial nint signal(int signum, nint handler);

    internal const nint SIG_DFL = 0;

    [LibraryImport(Libc, EntryPoint = "sigaction", SetLastError = true)]
    internal static unsafe partial int sigaction(int signum, byte* action, byte* oldAction);

    [LibraryImport(Libc, EntryPoint = "sigprocmask", SetLastError = true)]
    internal static partial int sigprocmask(int how, ReadOnlySpan<byte> set, nint oldset);

    [LibraryImport(Libc, EntryPoint = "execve", SetLastError = true)]
    internal static unsafe partial int execve(byte* path, byte** argv, byte** envp);

    [LibraryImport(Libc, EntryPoint = "socketpair", SetLastError = true)]
    internal static unsafe partial int socketpair(int domain, int type, int protocol, int* sv);

    [LibraryImport(Libc, EntryPoint = "write", SetLastError = true)]
    internal static unsafe partial nint write(int fd, byte* buf, nint count);

    [LibraryImport(Libc, EntryPoint = "sendmsg", SetLastError = true)]
    internal static unsafe partial nint sendmsg(int sockfd, MsgHdr* msg, int flags);

    [LibraryImport(Libc, EntryPoint = "recvmsg", SetLastError = true)]
    internal static unsafe partial nint recvmsg(int sockfd, MsgHdr* msg, int flags);

    [LibraryImport(Libc, EntryPoint = "getpwnam_r", StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int getpwnam_r(string name, Passwd* pwd, byte* buf, nint buflen, Passwd** result);

    [LibraryImport(Libc, EntryPoint = "getpwuid_r")]
    internal static unsafe partial int getpwuid_r(uint uid, Passwd* pwd, byte* buf, nint buflen, Passwd** result);

    [LibraryImport(Libc, EntryPoint = "getgrnam_r", StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int getgrnam_r(string name, Group* grp, byte* buf, nint buflen, Group** result);

    /// <summary>glibc's gid_t and macOS's int are both 32 bits.</summary>
    [LibraryImport(Libc, EntryPoint = "getgrouplist", StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int getgrouplist(string user, uint group, uint* groups, int* ngroups);

    [StructLayout(LayoutKind.Sequential)]
    internal struct IoVec
    {
        public nint Base;
        public nint Length;
    }

    /// <summary>struct msghdr as laid out by glibc and Darwin on 64-bit targets.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct MsgHdr
    {
        public nint Name;
        public uint NameLength;
        public nint Iov;
        public nint IovLength;
        public nint Control;
        public nint ControlLength;
        public int Flags;
    }

    /// <summary>struct passwd: only the fields we read are named; the layout differs by OS.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Passwd
    {
        public nint Name;
        public nint Password;
        public uint Uid;
        public uint Gid;
        // Linux: gecos, dir, shell; macOS: change, class, gecos, dir, shell, expire. Room for both.
        public nint Rest0, Rest1, Rest2, Rest3, Rest4, Rest5, Rest6;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct Group
    {
        public nint Name;
        public nint Password;
        public uint Gid;
        public nint Members;
    }
}
