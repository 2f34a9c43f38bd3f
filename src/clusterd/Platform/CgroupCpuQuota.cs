using System.Globalization;

namespace Clusterd.Platform;

/// <summary>A cgroup's CPU bandwidth limit: <paramref name="Cpus"/> CPUs' worth of time, as <paramref name="Setting"/> says it.</summary>
/// <param name="Setting">Where and what, e.g. <c>/sys/fs/cgroup/cpu.max "150000 100000"</c>.</param>
internal sealed record CpuQuota(double Cpus, string Setting);

/// <summary>
/// The tightest CPU quota over this process's cgroup and its ancestors (as far up as the mount shows them): cgroup v2
/// <c>cpu.max</c> ("QUOTA PERIOD", or "max PERIOD" for none), or cgroup v1 <c>cpu.cfs_quota_us</c> over
/// <c>cpu.cfs_period_us</c> (-1 for none). A parent's limit binds its children, so every level counts; the runtime's own
/// reading (<see cref="Environment.ProcessorCount"/>) looks at the process's cgroup only, and once at start.
/// </summary>
internal static class CgroupCpuQuota
{
    /// <summary>This process's quota, or null when there is none (or no cgroup to read it from).</summary>
    public static CpuQuota? Read()
    {
        try
        {
            var procCgroup = File.ReadAllText("/proc/self/cgroup");
            var mountinfo = File.ReadAllText("/proc/self/mountinfo");
            return Find(procCgroup, mountinfo, ReadOrNull);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // no /proc: nothing says there is a quota
        }
    }

    /// <summary>
    /// Pure, for tests: the v1 cpu controller's hierarchy where one is mounted (a v1 or hybrid host, where the v2
    /// hierarchy has no cpu controller), else cgroup v2. <paramref name="readFile"/> returns null for a missing file.
    /// </summary>
    public static CpuQuota? Find(string procCgroup, string mountinfo, Func<string, string?> readFile)
    {
        if (CgroupPaths.Find(procCgroup, mountinfo, "cpu") is { } v1)
        {
            return Tightest(v1, readFile, V1);
        }
        return CgroupPaths.Find(procCgroup, mountinfo, v1Controller: null) is { } v2 ? Tightest(v2, readFile, V2) : null;
    }

    private static CpuQuota? Tightest(CgroupPath path, Func<string, string?> readFile, Func<string, Func<string, string?>, CpuQuota?> readLevel)
    {
        CpuQuota? tightest = null;
        for (var dir = path.Directory; ; dir = Path.GetDirectoryName(dir)!)
        {
            if (readLevel(dir, readFile) is { } quota && (tightest is null || quota.Cpus < tightest.Cpus))
            {
                tightest = quota;
            }
            if (dir.Length <= path.MountPoint.Length)
            {
                return tightest;
            }
        }
    }

    private static CpuQuota? V2(string dir, Func<string, string?> readFile)
    {
        var file = Path.Combine(dir, "cpu.max");
        var text = readFile(file)?.Trim();
        var parts = text?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts is not [var quota, var period] || quota == "max")
        {
            return null;
        }
        return Quota(quota, period, $"{file} \"{text}\"");
    }

    private static CpuQuota? V1(string dir, Func<string, string?> readFile)
    {
        var quotaFile = Path.Combine(dir, "cpu.cfs_quota_us");
        var quota = readFile(quotaFile)?.Trim();
        var period = readFile(Path.Combine(dir, "cpu.cfs_period_us"))?.Trim();
        if (quota is null || period is null || quota.StartsWith('-'))
        {
            return null;
        }
        return Quota(quota, period, $"{quotaFile} {quota} / cpu.cfs_period_us {period}");
    }

    private static CpuQuota? Quota(string quota, string period, string setting) =>
        long.TryParse(quota, NumberStyles.None, CultureInfo.InvariantCulture, out var q) && q > 0
        && long.TryParse(period, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p > 0
            ? new CpuQuota((double)q / p, setting)
            : null; // unreadable: not a limit clusterd can honour, and not one to invent

    private static string? ReadOrNull(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
