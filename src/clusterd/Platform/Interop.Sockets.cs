using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Clusterd.Platform;

internal static partial class Interop
{
    [LibraryImport(Libc, EntryPoint = "bind", SetLastError = true)]
    internal static unsafe partial int bind(int sockfd, byte* addr, uint addrlen);

    [SupportedOSPlatform("linux")]
    [LibraryImport(Libc, EntryPoint = "fchmod", SetLastError = true)]
    internal static partial int fchmod(int fd, uint mode);
}
