using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Clusterd.Platform;

internal static partial class Interop
{
    internal const uint MFD_CLOEXEC = 0x1;
    internal const uint MFD_ALLOW_SEALING = 0x2;
    internal const int F_ADD_SEALS = 1033;
    internal const int F_SEAL_SEAL = 0x1;
    internal const int F_SEAL_SHRINK = 0x2;
    internal const int F_SEAL_GROW = 0x4;
    internal const int F_SEAL_WRITE = 0x8;
    internal const int O_PATH = 0x200000; // x86-64 and arm64 agree

    [SupportedOSPlatform("linux")]
    [LibraryImport(Libc, EntryPoint = "memfd_create", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int memfd_create(string name, uint flags);

    /// <summary>execveat(fd, "", ..., AT_EMPTY_PATH), with /proc/self/fd/N where the kernel lacks it (glibc).</summary>
    [SupportedOSPlatform("linux")]
    [LibraryImport(Libc, EntryPoint = "fexecve", SetLastError = true)]
    internal static unsafe partial int fexecve(int fd, byte** argv, byte** envp);
}
