using System.Runtime.InteropServices;

namespace Clusterctl.Platform;

internal static partial class Interop
{
    private const string Libc = "libc";

    /// <summary>The real uid: it is what clusterd checks against the socket peer's credentials.</summary>
    [LibraryImport(Libc, EntryPoint = "getuid")]
    internal static partial uint getuid();
}
