using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Clusterd.Protocol.Platform;

/// <summary>
/// The libc calls both sides of the control socket need: clusterd before it binds, removes or changes a file, and
/// clusterctl before it trusts a socket. C names, errno read by the caller at once.
/// </summary>
internal static partial class Interop
{
    private const string Libc = "libc";

    /// <summary>statx rather than lstat on Linux: its struct has one layout on every architecture.</summary>
    [SupportedOSPlatform("linux")]
    [LibraryImport(Libc, EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static unsafe partial int statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    [SupportedOSPlatform("macos")]
    [LibraryImport(Libc, EntryPoint = "lstat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static unsafe partial int lstat(string path, byte* buffer);

    /// <summary>The real uid: the user clusterctl acts for, and whom clusterd sees at the other end of the socket.</summary>
    [LibraryImport(Libc, EntryPoint = "getuid")]
    internal static partial uint getuid();
}
