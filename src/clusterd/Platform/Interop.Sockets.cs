using System.Runtime.InteropServices;

namespace Clusterd.Platform;

internal static partial class Interop
{
    [LibraryImport(Libc, EntryPoint = "bind", SetLastError = true)]
    internal static unsafe partial int bind(int sockfd, byte* addr, uint addrlen);
}
