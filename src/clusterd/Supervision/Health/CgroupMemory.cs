using System.Globalization;

namespace Clusterd.Supervision.Health;

/// <summary>
/// What clusterd reads and writes in a worker's cgroup v2 for its memory (docs/adr/0005): the OOM kills the kernel
/// counted (<c>memory.events</c>) and the hard limit (<c>memory.max</c>). Both need the memory controller, which the
/// parent cgroups must have enabled for their children (<c>cgroup.subtree_control</c>); where it is not, memory.events
/// is absent (no OOM kill can be told apart) and a limit cannot be applied.
/// </summary>
internal static class CgroupMemory
{
    /// <summary>How many processes of the cgroup the OOM killer ended (memory.events <c>oom_kill</c>); 0 without the file.</summary>
    public static long OomKills(string cgroup)
    {
        try
        {
            foreach (var line in File.ReadLines(Path.Combine(cgroup, "memory.events")))
            {
                if (line.StartsWith("oom_kill ", StringComparison.Ordinal)
                    && long.TryParse(line.AsSpan("oom_kill ".Length), NumberStyles.None, CultureInfo.InvariantCulture, out var kills))
                {
                    return kills;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No memory controller here, or the cgroup is gone: no kill can be seen.
        }
        return 0;
    }

    /// <summary>
    /// Enables the memory controller for the children of each of <paramref name="parents"/> (outermost first: a
    /// controller must be enabled in a parent before its child can pass it on), then sets <c>memory.max</c> of
    /// <paramref name="cgroup"/>. Throws <see cref="MemoryLimitException"/> saying what is missing if the limit cannot be applied.
    /// </summary>
    public static void ApplyLimit(IEnumerable<string> parents, string cgroup, long bytes)
    {
        foreach (var parent in parents)
        {
            if (!HasController(parent))
            {
                throw new MemoryLimitException($"the memory controller is not available in {parent} (its cgroup.controllers lacks \"memory\"): under systemd give the unit Delegate=yes, or enable it in the parents' cgroup.subtree_control; or remove memory_max");
            }
            var control = Path.Combine(parent, "cgroup.subtree_control");
            if (!File.ReadAllText(control).Split(' ', '\n').Contains("memory"))
            {
                Write(control, "+memory");
            }
        }
        var max = Path.Combine(cgroup, "memory.max");
        if (!File.Exists(max))
        {
            throw new MemoryLimitException($"{cgroup} has no memory.max: the memory controller is not enabled for it");
        }
        Write(max, bytes.ToString(CultureInfo.InvariantCulture));
    }

    private static bool HasController(string cgroup)
    {
        try
        {
            return File.ReadAllText(Path.Combine(cgroup, "cgroup.controllers")).Split(' ', '\n').Contains("memory");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static void Write(string file, string value)
    {
        try
        {
            File.WriteAllText(file, value);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MemoryLimitException($"cannot write \"{value}\" to {file}: {e.Message}");
        }
    }
}

/// <summary>memory_max cannot be applied: the worker must not start without the limit it was configured with.</summary>
internal sealed class MemoryLimitException(string why) : Exception($"memory_max cannot be applied: {why}");
