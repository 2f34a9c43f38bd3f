using Clusterd.Supervision.Health;

namespace Clusterd.Tests.Supervision.Health;

/// <summary>Against a fake cgroup directory: this machine's cgroup v2 hierarchy has no memory controller.</summary>
public sealed class CgroupMemoryTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("clusterd-cgroup-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>A fake cgroup: <paramref name="controllers"/> as cgroup.controllers, and the memory files when "memory" is one.</summary>
    private string Cgroup(string name, string controllers)
    {
        var path = Path.Combine(_root, name);
        Directory.CreateDirectory(path);
        File.WriteAllText(Path.Combine(path, "cgroup.controllers"), controllers + "\n");
        File.WriteAllText(Path.Combine(path, "cgroup.subtree_control"), "\n");
        if (controllers.Contains("memory", StringComparison.Ordinal))
        {
            File.WriteAllText(Path.Combine(path, "memory.max"), "max\n");
        }
        return path;
    }

    [Fact]
    public void OomKills_MemoryEventsWithAKill_ReadsTheCount()
    {
        var cgroup = Cgroup("w", "memory pids");
        File.WriteAllText(Path.Combine(cgroup, "memory.events"), "low 0\nhigh 0\nmax 12\noom 2\noom_kill 1\noom_group_kill 0\n");

        Assert.Equal(1, CgroupMemory.OomKills(cgroup));
    }

    [Fact]
    public void OomKills_NoMemoryEvents_IsZero()
    {
        Assert.Equal(0, CgroupMemory.OomKills(Cgroup("w", "pids")));
        Assert.Equal(0, CgroupMemory.OomKills(Path.Combine(_root, "gone")));
    }

    [Fact]
    public void ApplyLimit_MemoryControllerAvailable_EnablesItForChildrenAndWritesMemoryMax()
    {
        var parent = Cgroup("workers", "cpu memory pids");
        var worker = Cgroup("workers/web/0", "memory");

        CgroupMemory.ApplyLimit([parent], worker, 64 << 20);

        Assert.Equal("+memory", File.ReadAllText(Path.Combine(parent, "cgroup.subtree_control")));
        Assert.Equal("67108864", File.ReadAllText(Path.Combine(worker, "memory.max")));
    }

    [Fact]
    public void ApplyLimit_AlreadyEnabled_LeavesSubtreeControlAlone()
    {
        var parent = Cgroup("workers", "memory");
        File.WriteAllText(Path.Combine(parent, "cgroup.subtree_control"), "cpu memory\n");
        var worker = Cgroup("workers/web/0", "memory");

        CgroupMemory.ApplyLimit([parent], worker, 1 << 30);

        Assert.Equal("cpu memory\n", File.ReadAllText(Path.Combine(parent, "cgroup.subtree_control")));
        Assert.Equal("1073741824", File.ReadAllText(Path.Combine(worker, "memory.max")));
    }

    [Fact]
    public void ApplyLimit_NoMemoryController_RefusesNamingTheCgroupAndTheFix()
    {
        var parent = Cgroup("workers", "cpu pids");
        var worker = Cgroup("workers/web/0", "");

        var e = Assert.Throws<MemoryLimitException>(() => CgroupMemory.ApplyLimit([parent], worker, 64 << 20));

        Assert.StartsWith("memory_max cannot be applied: the memory controller is not available in " + parent, e.Message);
        Assert.Contains("Delegate=yes", e.Message);
        Assert.False(File.Exists(Path.Combine(worker, "memory.max")));
    }

    [Fact]
    public void ApplyLimit_WorkerWithoutMemoryMax_Refuses()
    {
        var parent = Cgroup("workers", "memory");
        var worker = Cgroup("workers/web/0", "pids");

        var e = Assert.Throws<MemoryLimitException>(() => CgroupMemory.ApplyLimit([parent], worker, 64 << 20));

        Assert.Contains("has no memory.max", e.Message);
    }
}
