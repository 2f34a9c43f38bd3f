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

    /// <summary>
    /// A worker's use across its whole tree where it has a cgroup of its own (cpu.stat's usage; memory.current, or
    /// without the memory controller the resident memory of each process in it), else its main process's.
    /// </summary>
    public static bool TryReadWorker(int pid, string? cgroup, out ProcessStat stat) =>
        (cgroup is not null && OperatingSystem.IsLinux() && TryReadCgroup(cgroup, out stat)) || TryRead(pid, out stat);
}
