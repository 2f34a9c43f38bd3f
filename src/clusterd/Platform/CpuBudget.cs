using System.Globalization;
using Clusterd.Config;

namespace Clusterd.Platform;

/// <summary>
/// The CPUs this process may use, for <c>workers = "auto"</c>: on Linux the fewer of the CPUs in its affinity mask
/// (<c>sched_getaffinity</c>, which cpusets and <c>taskset</c> shape) and its cgroup CPU quota rounded up, at least 1.
/// Read anew at every config load, so a reload sees a quota changed since the start. Elsewhere
/// <see cref="Environment.ProcessorCount"/>.
/// </summary>
internal static class CpuBudget
{
    public static AvailableCpus Detect()
    {
        if (!OperatingSystem.IsLinux())
        {
            return new AvailableCpus(Environment.ProcessorCount, Cpus(Environment.ProcessorCount) + " (Environment.ProcessorCount)");
        }
        string mask;
        int cpus;
        try
        {
            cpus = Affinity.Count();
            mask = Cpus(cpus) + " in the affinity mask";
        }
        catch (ErrnoException e)
        {
            cpus = Environment.ProcessorCount;
            mask = $"{Cpus(cpus)} (Environment.ProcessorCount; {e.Message})";
        }
        return Combine(cpus, mask, CgroupCpuQuota.Read());
    }

    /// <summary>Pure, for tests: the count and a sentence on where it came from.</summary>
    /// <param name="cpus">The CPUs the process may run on, as <paramref name="mask"/> says.</param>
    public static AvailableCpus Combine(int cpus, string mask, CpuQuota? quota)
    {
        if (quota is null)
        {
            return new AvailableCpus(cpus, mask + ", no cgroup CPU quota");
        }
        var quotaCpus = Math.Max(1, (int)Math.Ceiling(quota.Cpus)); // 150000/100000 is 1.5 CPUs: 2 workers
        var share = quota.Cpus.ToString("0.###", CultureInfo.InvariantCulture);
        return quotaCpus < cpus
            ? new AvailableCpus(quotaCpus, $"cgroup CPU quota of {share} CPUs ({quota.Setting}), rounded up; {mask}")
            : new AvailableCpus(cpus, $"{mask}; the cgroup CPU quota of {share} CPUs ({quota.Setting}) allows as many");
    }

    private static string Cpus(int n) => n == 1 ? "1 CPU" : string.Create(CultureInfo.InvariantCulture, $"{n} CPUs");
}
