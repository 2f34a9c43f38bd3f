using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Clusterd.Platform;

// The calls behind ProcessStats; kept in their own file so the Linux and macOS halves stay side by side.
internal static partial class Interop
{
    private const string Libproc = "libproc";

    /// <summary>Linux &lt;bits/confname.h&gt; _SC_CLK_TCK (here, not in LinuxConstants, to keep this feature in its own files).</summary>
    internal const int SC_CLK_TCK = 2;

    /// <summary>Darwin &lt;sys/proc_info.h&gt;.</summary>
    internal const int PROC_PIDTASKINFO = 4;

    [SupportedOSPlatform("linux")]
    [LibraryImport(Libc, EntryPoint = "sysconf")]
    internal static partial long sysconf(int name);

    [SupportedOSPlatform("macos")]
    [LibraryImport(Libproc, EntryPoint = "proc_pidinfo")]
    internal static unsafe partial int proc_pidinfo(int pid, int flavor, ulong arg, void* buffer, int buffersize);

    [SupportedOSPlatform("macos")]
    [LibraryImport(Libc, EntryPoint = "mach_timebase_info")]
    internal static unsafe partial int mach_timebase_info(MachTimebaseInfo* info);

    /// <summary>struct proc_taskinfo from &lt;sys/proc_info.h&gt;.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ProcTaskInfo
    {
        public ulong pti_virtual_size;
        public ulong pti_resident_size;
        public ulong pti_total_user;
        public ulong pti_total_system;
        public ulong pti_threads_user;
        public ulong pti_threads_system;
        public int pti_policy;
        public int pti_faults;
        public int pti_pageins;
        public int pti_cow_faults;
        public int pti_messages_sent;
        public int pti_messages_received;
        public int pti_syscalls_mach;
        public int pti_syscalls_unix;
        public int pti_csw;
        public int pti_threadnum;
        public int pti_numrunning;
        public int pti_priority;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct MachTimebaseInfo
    {
        public uint numer;
        public uint denom;
    }
}
