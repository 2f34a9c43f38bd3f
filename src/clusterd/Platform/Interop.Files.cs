using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Clusterd.Platform;

/// <remarks>lstat itself is in Clusterd.Protocol (<see cref="Clusterd.Protocol.Platform.PathStatus"/>): clusterctl reads it too.</remarks>
internal static partial class Interop
{
    [LibraryImport(Libc, EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int open(string path, int flags, uint mode);

    /// <summary>For a path built on the stack: UTF-8, ending with a NUL.</summary>
    [LibraryImport(Libc, EntryPoint = "open", SetLastError = true)]
    internal static partial int open(ReadOnlySpan<byte> path, int flags, uint mode);

    [LibraryImport(Libc, EntryPoint = "read", SetLastError = true)]
    internal static partial nint read(SafeFileHandle fd, Span<byte> buf, nint count);

    [LibraryImport(Libc, EntryPoint = "fchmodat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int fchmodat(int dirfd, string path, uint mode, int flags);

    [LibraryImport(Libc, EntryPoint = "lchown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int lchown(string path, uint owner, uint group);
}
