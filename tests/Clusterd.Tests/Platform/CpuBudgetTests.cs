using Clusterd.Platform;

namespace Clusterd.Tests.Platform;

/// <summary>
/// <c>workers = "auto"</c>: where this process's cgroup is (as /proc/self/{cgroup,mountinfo} describe it), the tightest
/// CPU quota over it and its ancestors, and how that combines with the affinity mask. The files are given as text.
/// </summary>
public class CpuBudgetTests
{
    // This machine's own layout: cgroup v1 controllers on a tmpfs, plus cgroup2 at /sys/fs/cgroup/unified (hybrid).
    private const string HybridMountinfo = """
        30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs ro,size=4096k,mode=755
        31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
        32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
        34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
        """;

    // Inside `docker run --cpus 1` on that host: Docker bind-mounts the container's own cgroup, whose path is the mount's root.
    private const string DockerV1Cgroup = "4:memory:/docker/4c48\n2:cpuacct:/docker/4c48\n1:cpu:/docker/4c48\n0::/docker/4c48\n";
    private const string DockerV1Mountinfo = """
        462 461 0:65 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,mode=755
        463 462 0:28 /docker/4c48 /sys/fs/cgroup/cpu ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpu
        464 462 0:29 /docker/4c48 /sys/fs/cgroup/cpuacct ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpuacct
        """;

    // A pure cgroup v2 host, clusterd under systemd in its delegated subtree.
    private const string V2Mountinfo = "36 25 0:31 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate\n";
    private const string V2Cgroup = "0::/system.slice/clusterd.service/supervisor\n";

    [Fact]
    public void Find_V2UnderSystemd_IsTheMountPlusThePath()
    {
        var path = CgroupPaths.Find(V2Cgroup, V2Mountinfo, v1Controller: null);

        Assert.Equal(new CgroupPath("/system.slice/clusterd.service/supervisor", "/sys/fs/cgroup/system.slice/clusterd.service/supervisor", "/sys/fs/cgroup"), path);
    }

    [Fact]
    public void Find_DockerV1_MountRootIsTheContainersCgroup()
    {
        Assert.Equal(new CgroupPath("/", "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu"), CgroupPaths.Find(DockerV1Cgroup, DockerV1Mountinfo, "cpu"));
        Assert.Null(CgroupPaths.Find(DockerV1Cgroup, DockerV1Mountinfo, v1Controller: null)); // no cgroup2 mount in there
    }

    [Fact]
    public void Find_V1ControllerSharingAMount_AndEscapedPaths_AreFound()
    {
        const string Mountinfo = @"50 30 0:40 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
51 30 0:41 / /srv/my\040cgroups rw - cgroup2 cgroup2 rw
";
        Assert.Equal("/sys/fs/cgroup/cpu,cpuacct/a/b", CgroupPaths.Find("3:cpu,cpuacct:/a/b\n", Mountinfo, "cpu")?.Directory);
        Assert.Equal("/srv/my cgroups/x", CgroupPaths.Find("0::/x\n", Mountinfo, null)?.Directory);
    }

    [Fact]
    public void Find_NoMatchingMountOrLine_IsNull()
    {
        Assert.Null(CgroupPaths.Find("0::/x\n", HybridMountinfo.Replace("cgroup2", "ext4", StringComparison.Ordinal), null));
        Assert.Null(CgroupPaths.Find("4:memory:/x\n", HybridMountinfo, "cpu"));
        Assert.Null(CgroupPaths.Find("", HybridMountinfo, null));
    }

    [Fact]
    public void Quota_DockerCpusOne_OnV1_IsOneCpu()
    {
        var files = new Dictionary<string, string>
        {
            ["/sys/fs/cgroup/cpu/cpu.cfs_quota_us"] = "100000\n",
            ["/sys/fs/cgroup/cpu/cpu.cfs_period_us"] = "100000\n",
        };

        var quota = CgroupCpuQuota.Find(DockerV1Cgroup, DockerV1Mountinfo, files.GetValueOrDefault);

        Assert.Equal(new CpuQuota(1.0, "/sys/fs/cgroup/cpu/cpu.cfs_quota_us 100000 / cpu.cfs_period_us 100000"), quota);
    }

    [Fact]
    public void Quota_V1Unlimited_IsNull()
    {
        var files = new Dictionary<string, string>
        {
            ["/sys/fs/cgroup/cpu/cpu.cfs_quota_us"] = "-1\n",
            ["/sys/fs/cgroup/cpu/cpu.cfs_period_us"] = "100000\n",
        };

        Assert.Null(CgroupCpuQuota.Find("1:cpu:/\n0::/\n", HybridMountinfo, files.GetValueOrDefault));
    }

    [Fact]
    public void Quota_V2_TheTightestLevelUpToTheMountWins()
    {
        // The service's CPUQuota=150% binds the supervisor leaf below it, which has no limit of its own.
        var files = new Dictionary<string, string>
        {
            ["/sys/fs/cgroup/system.slice/clusterd.service/supervisor/cpu.max"] = "max 100000\n",
            ["/sys/fs/cgroup/system.slice/clusterd.service/cpu.max"] = "150000 100000\n",
            ["/sys/fs/cgroup/system.slice/cpu.max"] = "400000 100000\n",
        };

        var quota = CgroupCpuQuota.Find(V2Cgroup, V2Mountinfo, files.GetValueOrDefault);

        Assert.Equal(new CpuQuota(1.5, "/sys/fs/cgroup/system.slice/clusterd.service/cpu.max \"150000 100000\""), quota);
    }

    [Theory]
    [InlineData("max 100000")]
    [InlineData("0 100000")]
    [InlineData("garbage")]
    [InlineData("100000 0")]
    [InlineData("")]
    public void Quota_V2NoneOrUnreadable_IsNull(string cpuMax)
    {
        var files = new Dictionary<string, string> { ["/sys/fs/cgroup/system.slice/clusterd.service/supervisor/cpu.max"] = cpuMax };

        Assert.Null(CgroupCpuQuota.Find(V2Cgroup, V2Mountinfo, files.GetValueOrDefault));
    }

    [Fact]
    public void Quota_HybridHost_ReadsTheV1CpuController()
    {
        var files = new Dictionary<string, string>
        {
            ["/sys/fs/cgroup/cpu/batch/cpu.cfs_quota_us"] = "50000",
            ["/sys/fs/cgroup/cpu/batch/cpu.cfs_period_us"] = "100000",
            ["/sys/fs/cgroup/unified/batch/cpu.max"] = "800000 100000", // not where the cpu controller is on a hybrid host
        };

        var quota = CgroupCpuQuota.Find("1:cpu:/batch\n0::/batch\n", HybridMountinfo, files.GetValueOrDefault);

        Assert.Equal(0.5, quota?.Cpus);
    }

    [Theory]
    [InlineData(8, 1.0, 1)]
    [InlineData(8, 1.5, 2)] // rounded up
    [InlineData(8, 0.3, 1)] // at least 1
    [InlineData(2, 4.0, 2)] // the mask is tighter
    [InlineData(4, 4.0, 4)]
    public void Combine_QuotaAndMask_TakesTheFewerRoundedUp(int cpus, double quotaCpus, int expected)
    {
        var budget = CpuBudget.Combine(cpus, $"{cpus} CPUs in the affinity mask", new CpuQuota(quotaCpus, "cpu.max"));

        Assert.Equal(expected, budget.Count);
    }

    [Fact]
    public void Combine_Sources_SayWhichLimitApplied()
    {
        Assert.Equal("8 CPUs in the affinity mask, no cgroup CPU quota",
            CpuBudget.Combine(8, "8 CPUs in the affinity mask", null).Source);
        Assert.Equal("cgroup CPU quota of 1.5 CPUs (/sys/fs/cgroup/cpu.max \"150000 100000\"), rounded up; 8 CPUs in the affinity mask",
            CpuBudget.Combine(8, "8 CPUs in the affinity mask", new CpuQuota(1.5, "/sys/fs/cgroup/cpu.max \"150000 100000\"")).Source);
        Assert.Equal("2 CPUs in the affinity mask; the cgroup CPU quota of 4 CPUs (cpu.max) allows as many",
            CpuBudget.Combine(2, "2 CPUs in the affinity mask", new CpuQuota(4, "cpu.max")).Source);
    }

    [Fact]
    public void Detect_ThisProcess_CountsItsAffinityMask()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        var budget = CpuBudget.Detect();

        Assert.InRange(budget.Count, 1, Affinity.Count());
        Assert.Contains("affinity mask", budget.Source, StringComparison.Ordinal);
    }
}
