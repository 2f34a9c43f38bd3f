using System.Runtime.Versioning;

namespace Clusterd.Platform;

internal static partial class ProcessStats
{
    private static double s_nanosecondsPerTick; // 0 until first read; a race only asks twice

    [SupportedOSPlatform("macos")]
    private static unsafe bool TryReadOsx(int pid, out ProcessStat stat)
    {
        stat = default;
        Interop.ProcTaskInfo info;
        var size = sizeof(Interop.ProcTaskInfo);
        if (Interop.proc_pidinfo(pid, Interop.PROC_PIDTASKINFO, 0, &info, size) != size)
        {
            return false; // gone, or not ours (EPERM): no reading rather than an error per scrape
        }
        // pti_total_* are in Mach absolute time units, which are nanoseconds on Intel but not on Apple silicon.
        if (s_nanosecondsPerTick == 0)
        {
            s_nanosecondsPerTick = ReadTimebase();
        }
        var nanoseconds = (info.pti_total_user + info.pti_total_system) * s_nanosecondsPerTick;
        stat = new ProcessStat(nanoseconds / 1e9, (long)info.pti_resident_size);
        return true;
    }

    [SupportedOSPlatform("macos")]
    private static unsafe double ReadTimebase()
    {
        Interop.MachTimebaseInfo timebase;
        return Interop.mach_timebase_info(&timebase) == 0 && timebase.denom != 0 ? (double)timebase.numer / timebase.denom : 1;
    }
}
