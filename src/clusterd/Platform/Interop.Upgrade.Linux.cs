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

    [SupportedOSPlatform("linux")]
    [LibraryImport(Libc, EntryPoint = "memfd_create", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int memfd_create(string name, uint flags);
}
