using System.Globalization;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace Clusterd.Platform;

/// <summary>
/// The cgroup v2 subtree clusterd puts its workers in, one cgroup per worker (docs/adr/0005), so that everything a
/// worker starts, even what leaves its process group (setsid, a double fork), is found, signalled and waited for.
/// Layout under clusterd's own cgroup C:
/// <code>
///   C/supervisor/            clusterd itself (a process may not sit in a cgroup whose children have controllers)
///   C/workers/GROUP/SLOT.gGEN   one per worker process
/// </code>
/// When clusterd runs in the root of the hierarchy (a host without systemd, this machine's tests), C is a fresh
/// <c>/clusterd-PID-START</c> instead (<see cref="SubtreeName"/>), and clusterd stays where it is. Under systemd this needs <c>Delegate=yes</c>.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class WorkerCgroups : IDisposable
{
    private readonly string _workers;
    private readonly string? _removeOnDispose;
    private readonly string? _delegated;

    /// <param name="delegated">clusterd's own cgroup C when the workers' subtree is below it (it must pass controllers on too).</param>
    private WorkerCgroups(string workers, string? removeOnDispose, string? delegated = null)
    {
        _workers = workers;
        _removeOnDispose = removeOnDispose;
        _delegated = delegated;
    }

    /// <summary>The cgroups above a worker of <paramref name="group"/> that clusterd manages, outermost first.</summary>
    public IReadOnlyList<string> ParentsOf(string group)
    {
        var own = System.IO.Path.Combine(_workers, group);
        return _delegated is null ? [_workers, own] : [_delegated, _workers, own];
    }

    /// <summary>Where workers' cgroups go, e.g. /sys/fs/cgroup/system.slice/clusterd.service/workers.</summary>
    public string Path => _workers;

    /// <summary>Sets the subtree up, or says why it cannot (no cgroup v2, not allowed to write there).</summary>
    public static WorkerCgroups? TrySetUp(out string why)
    {
        try
        {
            if (CgroupPaths.V2() is not { } own)
            {
                why = "no cgroup v2 hierarchy is mounted";
                return null;
            }
            if (own.Relative == "/")
            {
                var swept = SweepAbandoned(own.Directory);
                var mine = System.IO.Path.Combine(own.Directory, SubtreeName(Environment.ProcessId));
                Directory.CreateDirectory(mine);
                why = "";
                return new WorkerCgroups(mine, removeOnDispose: mine) { Swept = swept };
            }
            var supervisor = System.IO.Path.Combine(own.Directory, "supervisor");
            Directory.CreateDirectory(supervisor);
            File.WriteAllText(System.IO.Path.Combine(supervisor, "cgroup.procs"), "0"); // "0": the writing process
            var workers = System.IO.Path.Combine(own.Directory, "workers");
            Directory.CreateDirectory(workers);
            why = "";
            return new WorkerCgroups(workers, removeOnDispose: null, delegated: own.Directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            why = e.Message;
            return null;
        }
    }

    /// <summary>The subtrees of clusterds that no longer run, whose processes were killed at set-up.</summary>
    public IReadOnlyList<string> Swept { get; private init; } = [];

    /// <summary>
    /// <c>clusterd-PID-START</c>, START being when the process started (<see cref="ProcessStats.TryReadStartTicks"/>):
    /// with a pid alone, a clusterd whose pid an earlier, killed one had would take over that one's stale subtree, and a
    /// clusterd starting at the same moment could sweep it away as abandoned from under the new owner (CI saw a
    /// clusterd lose its cgroups to that: ENODEV). An exec (an upgrade in place) keeps the name.
    /// </summary>
    internal static string SubtreeName(int pid) =>
        ProcessStats.TryReadStartTicks(pid, out var start)
            ? string.Create(CultureInfo.InvariantCulture, $"clusterd-{pid}-{start}")
            : throw new IOException($"cannot read when process {pid} started (/proc/{pid}/stat)");

    /// <summary>
    /// Whether a <c>clusterd-PID-START</c> subtree's clusterd has gone: no process PID started at START. A name of
    /// the older form <c>clusterd-PID</c> is gone when no process PID exists (a reused pid keeps it). False for a name
    /// that is neither: not clusterd's to remove.
    /// </summary>
    internal static bool IsAbandoned(string name, Func<int, long?> startOf)
    {
        if (!name.StartsWith("clusterd-", StringComparison.Ordinal))
        {
            return false;
        }
        var rest = name.AsSpan("clusterd-".Length);
        var dash = rest.IndexOf('-');
        if (!int.TryParse(dash < 0 ? rest : rest[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            return false;
        }
        if (dash < 0)
        {
            return startOf(pid) is null;
        }
        return long.TryParse(rest[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var start) && startOf(pid) != start;
    }

    /// <summary>
    /// Kills what a clusterd killed outright (SIGKILL, a crash) left in its <c>/clusterd-PID-START</c> subtree: its
    /// workers got the parent-death signal, but what they had started did not, and nobody else will stop it (under
    /// systemd the unit's cgroup does this). Its directories go too where they are already empty; the rest a later
    /// start removes.
    /// </summary>
    private static List<string> SweepAbandoned(string root)
    {
        var swept = new List<string>();
        foreach (var dir in Directory.GetDirectories(root, "clusterd-*"))
        {
            if (!IsAbandoned(System.IO.Path.GetFileName(dir), pid => ProcessStats.TryReadStartTicks(pid, out var start) ? start : null))
            {
                continue;
            }
            var abandoned = new WorkerCgroup(dir);
            using (abandoned.Events) // not disposed itself: that would try to remove the directory before its children
            {
                if (abandoned.IsPopulated() && abandoned.Kill()) // the whole subtree, at once
                {
                    swept.Add(dir);
                }
            }
            foreach (var child in Directory.GetDirectories(dir, "*", SearchOption.AllDirectories).Reverse())
            {
                WorkerCgroup.TryRemove(child); // deepest first; a cgroup whose processes are still dying stays
            }
            WorkerCgroup.TryRemove(dir);
        }
        return swept;
    }

    /// <summary>A new, empty cgroup for one worker process: <c>workers/GROUP/NAME</c>.</summary>
    public WorkerCgroup Create(string group, string name)
    {
        var path = System.IO.Path.Combine(_workers, group, name);
        if (Directory.Exists(path))
        {
            Directory.Delete(path); // left by a worker whose removal failed; rmdir fails (EBUSY) if anything runs in it
        }
        Directory.CreateDirectory(path);
        return new WorkerCgroup(path);
    }


    /// <summary>Removes the groups' (empty) cgroups, and the subtree if clusterd made it at the root.</summary>
    public void Dispose()
    {
        foreach (var group in Directory.Exists(_workers) ? Directory.GetDirectories(_workers) : [])
        {
            WorkerCgroup.TryRemove(group);
        }
        if (_removeOnDispose is not null)
        {
            WorkerCgroup.TryRemove(_removeOnDispose);
        }
    }
}

/// <summary>
/// One worker's cgroup. The worker's process is started in it by the fork server, or else moves itself in before it
/// execs (clusterd-exec); everything it starts is born inside. Emptiness is read from <c>cgroup.events</c>, which also
/// wakes pollers when it changes.
/// </summary>
internal sealed class WorkerCgroup(string path) : IDisposable
{
    public string Path { get; } = path;

    /// <summary>cgroup.events, open for polling (priority data on change) and reading "populated".</summary>
    public SafeFileHandle Events { get; } = File.OpenHandle(System.IO.Path.Combine(path, "cgroup.events"));

    /// <summary>Whether any live process is in it (a zombie is not).</summary>
    public bool IsPopulated()
    {
        Span<byte> buffer = stackalloc byte[256];
        var n = RandomAccess.Read(Events, buffer, 0); // reading also re-arms the poll notification
        return buffer[..n].IndexOf("populated 1"u8) >= 0;
    }

    /// <summary>Whether <paramref name="pid"/> is in it now (its /proc/PID/cgroup names this cgroup).</summary>
    public bool Contains(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/cgroup").FirstOrDefault(l => l.StartsWith("0::", StringComparison.Ordinal));
            return line is not null && Path.EndsWith(line[3..], StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false; // gone
        }
    }

    /// <summary>The pids in it now.</summary>
    public IEnumerable<int> Processes() =>
        File.ReadLines(System.IO.Path.Combine(Path, "cgroup.procs"))
            .Select(l => int.Parse(l, NumberStyles.None, CultureInfo.InvariantCulture));

    /// <summary>SIGKILL to everything in it at once (Linux 5.14+); false where the kernel has no cgroup.kill.</summary>
    public bool Kill()
    {
        var kill = System.IO.Path.Combine(Path, "cgroup.kill");
        if (!File.Exists(kill))
        {
            return false;
        }
        File.WriteAllText(kill, "1");
        return true;
    }

    /// <summary>Removes the (empty) cgroup; harmless if it cannot (a leftover a later worker of the slot replaces).</summary>
    public void Dispose()
    {
        Events.Dispose();
        TryRemove(Path);
    }

    /// <summary>rmdir: only an empty cgroup goes; one that does not is a harmless leftover.</summary>
    public static void TryRemove(string path)
    {
        try
        {
            Directory.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
