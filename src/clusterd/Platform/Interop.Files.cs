using System.Runtime.InteropServices;

namespace Clusterd.Platform;

/// <remarks>lstat itself is in Clusterd.Protocol (<see cref="Clusterd.Protocol.Platform.PathStatus"/>): clusterctl reads it too.</remarks>
internal static partial class Interop
{
    [LibraryImport(Libc, EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int open(string path, int flags, uint mode);

    [LibraryImport(Libc, EntryPoint = "fchmodat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int fchmodat(int dirfd, string path, uint mode, int flags);

    [LibraryImport(Libc, EntryPoint = "lchown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int lchown(string path, uint owner, uint group);
}
