namespace Clusterd.Platform;

/// <summary>CPU time (user + system) and resident set size of one process, as the kernel accounts them.</summary>
internal readonly record struct ProcessStat(double CpuSeconds, long ResidentBytes);

/// <summary>
/// Reads <see cref="ProcessStat"/> for any pid, without <see cref="System.Diagnostics.Process"/>: that class caches,
/// allocates per call and throws for a pid that just died, and both the metrics scrape and the control `status`
/// command ask about every worker often. A pid that is gone (or not ours to see) is simply "no reading".
/// </summary>
internal static partial class ProcessStats
{
    public static bool TryRead(int pid, out ProcessStat stat)
    {
        stat = default;
        if (pid <= 0)
        {
            return false;
        }
        if (OperatingSystem.IsLinux())
        {
            return TryReadLinux(pid, out stat);
        }
        if (OperatingSystem.IsMacOS())
        {
            return TryReadOsx(pid, out stat);
        }
        return false;
    }
}
