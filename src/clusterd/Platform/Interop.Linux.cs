using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Clusterd.Platform;

internal static partial class Interop
{
    [SupportedOSPlatform("linux")]
    [LibraryImport(Libc, EntryPoint = "prctl", SetLastError = true)]
    internal static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [SupportedOSPlatform("linux")]
    [LibraryImport(Libc, EntryPoint = "close_range", SetLastError = true)]
    internal static partial int close_range(uint first, uint last, uint flags);

    [SupportedOSPlatform("linux")]
    [LibraryImport(Libc, EntryPoint = "pipe2", SetLastError = true)]
    internal static unsafe partial int pipe2(int* fds, int flags);

    [SupportedOSPlatform("linux")]
    [LibraryImport(Libc, EntryPoint = "sched_getaffinity", SetLastError = true)]
    internal static unsafe partial int sched_getaffinity(int pid, nuint cpusetsize, byte* mask);

    /// <summary>For bpf(2), which glibc has no wrapper for. Returns -1 and sets errno on failure.</summary>
    [SupportedOSPlatform("linux")]
    [LibraryImport(Libc, EntryPoint = "syscall", SetLastError = true)]
    internal static unsafe partial nint syscall(long number, long argument1, void* argument2, long argument3);
}
