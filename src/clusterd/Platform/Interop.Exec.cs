using System.Runtime.InteropServices;

namespace Clusterd.Platform;

internal static partial class Interop
{
    /// <summary>Replaces the process image; returns only on failure (-1, errno set).</summary>
    [LibraryImport(Libc, EntryPoint = "execv", SetLastError = true)]
    internal static unsafe partial int execv(byte* path, byte** argv);
}
