namespace Clusterd.Tests.Platform;

/// <summary>Where this process's cgroup2 group is, for tests that make a child group to put a worker in.</summary>
internal static class Cgroups
{
    /// <summary>Our own cgroup2 group: its directory on a read-write mount and its path in /proc/PID/cgroup; null if there is none.</summary>
    public static (string Directory, string Path)? Own()
    {
        var own = File.ReadLines("/proc/self/cgroup").FirstOrDefault(line => line.StartsWith("0::", StringComparison.Ordinal))?[3..];
        var mount = File.ReadLines("/proc/self/mountinfo")
            .Select(line => line.Split(' '))
            .FirstOrDefault(f => f.Length > 9 && f[Array.IndexOf(f, "-") + 1] == "cgroup2" && f[3] == "/" && f[5].Split(',').Contains("rw"));
        if (own is null || mount is null)
        {
            return null;
        }
        var directory = Path.Join(mount[4], own);
        return Directory.Exists(directory) ? (directory, own) : null;
    }
}
