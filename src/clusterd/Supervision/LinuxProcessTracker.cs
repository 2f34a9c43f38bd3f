using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Clusterd.Platform;
using Microsoft.Win32.SafeHandles;

namespace Clusterd.Supervision;

/// <summary>
/// How the launcher follows its workers on Linux (docs/adr/0005): a cgroup per worker where clusterd may create them,
/// a pidfd per main process, one epoll thread for exits and emptied cgroups, and clusterd as the child subreaper of
/// everything its workers start, reaping what is handed to it.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class LinuxProcessTracker : IDisposable
{
    private readonly bool _reapOrphans;
    private readonly EpollWatcher _watcher;
    private readonly WorkerCgroups? _cgroups;
    private readonly PosixSignalRegistration _sigchld;
    private readonly ConcurrentDictionary<int, ContainedProcess> _live = new();
    private readonly string _noCgroups;

    /// <param name="reapOrphans">See <see cref="ProcessWorkerLauncher"/>.</param>
    public LinuxProcessTracker(bool reapOrphans, Action<Exception> failed)
    {
        _reapOrphans = reapOrphans;
        _cgroups = WorkerCgroups.TrySetUp(out var why);
        _noCgroups = why;
        Containment = _cgroups is null
            ? $"each worker's process group (no cgroups: {why}); a descendant that leaves it is not stopped with it"
            : $"a cgroup per worker under {_cgroups.Path}"
                + string.Concat(_cgroups.Swept.Select(dir => $"; killed what a clusterd no longer running left in {dir}"));
        _watcher = new EpollWatcher(Rescan, failed);
        if (reapOrphans)
        {
            ErrnoException.ThrowIfFailed(Interop.prctl(Interop.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl(PR_SET_CHILD_SUBREAPER)");
        }
        _sigchld = PosixSignalRegistration.Create(PosixSignal.SIGCHLD, _ => _watcher.Wake());
    }

    public string Containment { get; }

    /// <summary>
    /// Held from a spawn until its process is tracked: an orphan is any child not tracked, so a child that exited
    /// before its spawner tracked it must not be taken for one (its status would be lost, and its pid reused).
    /// </summary>
    public Lock SpawnWindow { get; } = new();

    /// <summary>
    /// A fresh cgroup for the next worker process, or null where there are none; with <paramref name="memoryMax"/>
    /// limited to it (memory_max), or <see cref="MemoryLimitException"/> if that cannot be done here.
    /// </summary>
    public WorkerCgroup? CreateCgroup(string group, string name, long? memoryMax)
    {
        if (memoryMax is null)
        {
            return _cgroups?.Create(group, name);
        }
        if (_cgroups is null)
        {
            throw new Health.MemoryLimitException($"it needs a cgroup per worker, and there are none here ({_noCgroups})");
        }
        var cgroup = _cgroups.Create(group, name);
        try
        {
            Health.CgroupMemory.ApplyLimit(_cgroups.ParentsOf(group), cgroup.Path, memoryMax.Value);
        }
        catch
        {
            cgroup.Dispose();
            throw;
        }
        return cgroup;
    }

    /// <summary>From now on nothing but the returned object reaps or signals <paramref name="pid"/>.</summary>
    public ContainedProcess Track(int pid, WorkerCgroup? cgroup)
    {
        // Not reaped by anyone yet (only tracked processes reap the spawner's children), so the pid still names our child.
        var pidfd = Pidfd.Open(pid);
        try
        {
            var process = new ContainedProcess(pid, pidfd, cgroup, _watcher, gone => _live.TryRemove(gone.Pid, out _));
            _live[pid] = process;
            if (process.TreeGone.IsCompleted)
            {
                _live.TryRemove(pid, out _); // it was gone before it was listed
            }
            return process;
        }
        catch
        {
            Pidfd.Signal(pidfd, Signals.SIGKILL); // untrackable: it must not run unwatched
            pidfd.Dispose();
            throw;
        }
    }

    /// <summary>After SIGCHLD (watcher thread): reap orphans handed to clusterd, and see which trees without cgroups emptied.</summary>
    private void Rescan()
    {
        if (_reapOrphans)
        {
            lock (SpawnWindow)
            {
                ProcessTable.ReapOrphans(_live.ContainsKey);
            }
        }
        foreach (var process in _live.Values)
        {
            if (!process.HasCgroup)
            {
                process.CheckTree();
            }
        }
    }

    public void Dispose()
    {
        _sigchld.Dispose();
        _watcher.Dispose();
        _cgroups?.Dispose();
    }
}
