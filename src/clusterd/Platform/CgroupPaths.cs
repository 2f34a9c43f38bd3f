using System.Text.RegularExpressions;

namespace Clusterd.Platform;

/// <summary>Where one of this process's cgroups is: its path in the hierarchy, and its directory under the mount.</summary>
/// <param name="Relative">As /proc/self/cgroup says it, made relative to the mount's root ("/" for the root itself).</param>
/// <param name="Directory">Where it is on disk, e.g. /sys/fs/cgroup/system.slice/clusterd.service.</param>
/// <param name="MountPoint">The mount it is under: the top a walk up the hierarchy can reach.</param>
internal sealed record CgroupPath(string Relative, string Directory, string MountPoint);

/// <summary>
/// Finds this process's cgroups from /proc/self/cgroup and /proc/self/mountinfo, for cgroup v2 or for the v1 hierarchy
/// of one controller. A container usually sees its own cgroup as the root of its mount (a cgroup namespace, or Docker's
/// bind mount of the container's cgroup on cgroup v1 with <c>/docker/ID</c> as the mount's root): both are handled by
/// taking the cgroup path relative to the mount's root. Pure: the files' text comes in, tests pass their own.
/// </summary>
internal static partial class CgroupPaths
{
    /// <summary>The cgroup v2 group of this process, or null when no cgroup2 mount holds it.</summary>
    public static CgroupPath? V2() => Find(File.ReadAllText("/proc/self/cgroup"), File.ReadAllText("/proc/self/mountinfo"), v1Controller: null);

    /// <param name="procCgroup">/proc/self/cgroup: "0::/path" for v2, "N:controller,...:/path" for v1.</param>
    /// <param name="mountinfo">/proc/self/mountinfo.</param>
    /// <param name="v1Controller">A v1 controller ("cpu"), or null for cgroup v2.</param>
    public static CgroupPath? Find(string procCgroup, string mountinfo, string? v1Controller)
    {
        var relative = OwnPath(procCgroup, v1Controller);
        if (relative is null)
        {
            return null;
        }
        foreach (var line in mountinfo.Split('\n'))
        {
            // "36 25 0:31 / /sys/fs/cgroup rw,... shared:9 - cgroup2 cgroup2 rw,..."
            var dash = line.IndexOf(" - ", StringComparison.Ordinal);
            if (dash < 0)
            {
                continue;
            }
            var fields = line[..dash].Split(' ');
            var super = line[(dash + 3)..].Split(' ');
            if (fields.Length < 5 || super.Length < 3 || !IsMountOf(super[0], super[2], v1Controller))
            {
                continue;
            }
            var (root, mountPoint) = (Unescape(fields[3]), Unescape(fields[4]));
            if (relative == root || root == "/" || relative.StartsWith(root + "/", StringComparison.Ordinal))
            {
                var below = root == "/" ? relative : relative[root.Length..];
                below = below.Length == 0 ? "/" : below;
                return new CgroupPath(below, below == "/" ? mountPoint : mountPoint + below, mountPoint);
            }
        }
        return null;
    }

    private static string? OwnPath(string procCgroup, string? v1Controller)
    {
        foreach (var line in procCgroup.Split('\n'))
        {
            var first = line.IndexOf(':', StringComparison.Ordinal);
            var second = first < 0 ? -1 : line.IndexOf(':', first + 1);
            if (second < 0)
            {
                continue;
            }
            var controllers = line[(first + 1)..second];
            var mine = v1Controller is null ? line.StartsWith("0::", StringComparison.Ordinal) : controllers.Split(',').Contains(v1Controller);
            if (mine)
            {
                return line[(second + 1)..].TrimEnd('\r');
            }
        }
        return null;
    }

    private static bool IsMountOf(string type, string superOptions, string? v1Controller) =>
        v1Controller is null ? type == "cgroup2" : type == "cgroup" && superOptions.Split(',').Contains(v1Controller);

    /// <summary>mountinfo escapes spaces and the like as \040 (octal).</summary>
    private static string Unescape(string field) =>
        OctalEscape().Replace(field, m => ((char)Convert.ToInt32(m.Groups[1].Value, 8)).ToString());

    [GeneratedRegex(@"\\([0-7]{3})")]
    private static partial Regex OctalEscape();
}
