using System.Runtime.InteropServices;

namespace Clusterd.Protocol.Platform;

/// <summary>
/// The calls of a blocking AF_UNIX stream client (<see cref="LocalSocketStream"/>): socket(2), connect(2), and reads and
/// writes on the connected descriptor. The constants that differ between Linux and macOS are chosen here.
/// </summary>
internal static partial class Interop
{
    internal const int AfUnix = 1;
    internal const int SockStream = 1;
    internal const int ShutWr = 1;
    internal const int ShutRdWr = 2;
    internal const int FSetFd = 2;
    internal const int FdCloexec = 1;

    /// <summary>SOCK_CLOEXEC: macOS has none, and its descriptor is marked close-on-exec by fcntl instead.</summary>
    internal static int SockCloexec => OperatingSystem.IsMacOS() ? 0 : 0x80000;

    /// <summary>MSG_NOSIGNAL on Linux; macOS has none and uses SO_NOSIGPIPE.</summary>
    internal static int MsgNoSignal => OperatingSystem.IsMacOS() ? 0 : 0x4000;

    internal static int SolSocket => OperatingSystem.IsMacOS() ? 0xffff : 1;
    internal static int SoSndTimeo => OperatingSystem.IsMacOS() ? 0x1005 : 21;
    internal static int SoRcvTimeo => OperatingSystem.IsMacOS() ? 0x1006 : 20;
    internal const int SoNoSigpipeMacOS = 0x1022;

    /// <summary>Where the peer's uid is: SO_PEERCRED's struct ucred on Linux, LOCAL_PEERCRED's struct xucred on macOS.</summary>
    internal static (int Level, int Name, int Size) PeerCredentials =>
        OperatingSystem.IsMacOS() ? (0 /* SOL_LOCAL */, 1 /* LOCAL_PEERCRED */, 76) : (1 /* SOL_SOCKET */, 17 /* SO_PEERCRED */, 12);

    /// <summary>
    /// The uid in what <see cref="PeerCredentials"/> gave: struct ucred { pid_t pid; uid_t uid; gid_t gid; } and struct
    /// xucred { u_int cr_version; uid_t cr_uid; ... } both have it as their second 32-bit field.
    /// </summary>
    internal static uint PeerUid(ReadOnlySpan<byte> credentials) => MemoryMarshal.Read<uint>(credentials[4..]);

    /// <summary>sockaddr_un's path capacity, NUL included: 108 on Linux, 104 on macOS.</summary>
    internal static int SunPathSize => OperatingSystem.IsMacOS() ? 104 : 108;

    internal const int Eintr = 4;
    internal const int Enoent = 2;
    internal const int Eacces = 13;
    internal const int Enotdir = 20;
    internal static int Eagain => OperatingSystem.IsMacOS() ? 35 : 11;
    internal static int Econnrefused => OperatingSystem.IsMacOS() ? 61 : 111;
    internal static int Etimedout => OperatingSystem.IsMacOS() ? 60 : 110;

    [LibraryImport(Libc, EntryPoint = "socket", SetLastError = true)]
    internal static partial LocalSocketHandle socket(int domain, int type, int protocol);

    [LibraryImport(Libc, EntryPoint = "connect", SetLastError = true)]
    internal static unsafe partial int connect(LocalSocketHandle socket, byte* address, uint length);

    [LibraryImport(Libc, EntryPoint = "setsockopt", SetLastError = true)]
    internal static unsafe partial int setsockopt(LocalSocketHandle socket, int level, int name, void* value, uint length);

    [LibraryImport(Libc, EntryPoint = "getsockopt", SetLastError = true)]
    internal static unsafe partial int getsockopt(LocalSocketHandle socket, int level, int name, void* value, uint* length);

    [LibraryImport(Libc, EntryPoint = "fcntl", SetLastError = true)]
    internal static partial int fcntl(LocalSocketHandle socket, int command, int argument);

    [LibraryImport(Libc, EntryPoint = "recv", SetLastError = true)]
    internal static unsafe partial nint recv(LocalSocketHandle socket, byte* buffer, nuint length, int flags);

    [LibraryImport(Libc, EntryPoint = "send", SetLastError = true)]
    internal static unsafe partial nint send(LocalSocketHandle socket, byte* buffer, nuint length, int flags);

    [LibraryImport(Libc, EntryPoint = "shutdown", SetLastError = true)]
    internal static partial int shutdown(LocalSocketHandle socket, int how);

    [LibraryImport(Libc, EntryPoint = "close")]
    internal static partial int close(nint descriptor);
}
