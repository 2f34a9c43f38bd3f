using System.Runtime.InteropServices;

namespace TestWorker;

/// <summary>The few libc calls .NET has no managed equivalent for.</summary>
internal static partial class NativeMethods
{
    internal const int SigSegv = 11;
    internal const nint SigDfl = 0;

    [LibraryImport("libc", EntryPoint = "getpgid", SetLastError = true)]
    internal static partial int GetPgid(int pid);

    [LibraryImport("libc", EntryPoint = "getppid")]
    internal static partial int GetPpid();

    [LibraryImport("libc", EntryPoint = "getuid")]
    internal static partial uint GetUid();

    [LibraryImport("libc", EntryPoint = "getgid")]
    internal static partial uint GetGid();

    /// <summary>signal(2); passing SigDfl restores the default action.</summary>
    [LibraryImport("libc", EntryPoint = "signal")]
    internal static partial nint Signal(int sig, nint handler);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    internal static partial int Kill(int pid, int sig);
}
