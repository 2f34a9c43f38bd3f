using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Clusterd.Platform;

internal static partial class Interop
{
    internal const ushort AF_UNIX = 1;

    /// <summary>sun_path's size in struct sockaddr_un on Linux; the path must leave room for its NUL.</summary>
    internal const int SunPathLength = 108;

    [SupportedOSPlatform("linux")]
    [LibraryImport(Libc, EntryPoint = "bind", SetLastError = true)]
    internal static unsafe partial int bind(int sockfd, byte* addr, uint addrlen);

    [SupportedOSPlatform("linux")]
    [LibraryImport(Libc, EntryPoint = "fchmod", SetLastError = true)]
    internal static partial int fchmod(int fd, uint mode);
}
