using System.Runtime.Versioning;
using Clusterd.Platform;
using Microsoft.Win32.SafeHandles;

namespace Clusterd.Supervision;

/// <summary>A spawned worker as the launcher tracks it: the process and when it, and everything it started, are gone.</summary>
internal interface ITrackedProcess : IWorkerProcess
{
    /// <summary>The main process's wait status, once it has exited (it is not reaped yet: see <see cref="TreeGone"/>).</summary>
    Task<int> MainExited { get; }

    /// <summary>Completes once no process of the worker is left and the main process is reaped.</summary>
    Task TreeGone { get; }
}

/// <summary>
/// A worker on Linux (docs/adr/0005): its main process held by a pidfd, its tree by its own cgroup (or, without one,
/// by its process group). The main process is reaped only once the tree is empty: until then its pid, and so its
/// process group id, cannot be given to another process, so signalling the group can never hit a stranger.
/// Exits and cgroup changes are seen on the <see cref="EpollWatcher"/> thread; signals come from the supervisor loop.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class ContainedProcess : ITrackedProcess
{
    private readonly Lock _lock = new();
    private readonly SafeFileHandle _pidfd;
    private readonly WorkerCgroup? _cgroup;
    private readonly EpollWatcher _watcher;
    private readonly Action<ContainedProcess> _gone;
    private readonly TaskCompletionSource<int> _mainExited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _treeGone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ulong _exitWatch;
    private ulong? _eventsWatch;
    private int? _status;
    private bool _reaped;
    private bool _oomKilled;

    /// <param name="gone">Called (on the watcher thread) once the tree is gone and the main process reaped.</param>
    public ContainedProcess(int pid, SafeFileHandle pidfd, WorkerCgroup? cgroup, EpollWatcher watcher, Action<ContainedProcess> gone)
    {
        Pid = pid;
        _pidfd = pidfd;
        _cgroup = cgroup;
        _watcher = watcher;
        _gone = gone;
        lock (_lock) // the exit may be seen at once, on the watcher thread: it waits for the token to be known
        {
            _exitWatch = watcher.Add(pidfd, Interop.EPOLLIN, OnMainExit); // readable once the process has exited
        }
    }

    public int Pid { get; }

    public string? Cgroup => _cgroup?.Path;

    /// <summary>Read from the cgroup while it exists; once the tree is gone, what it said just before it was removed.</summary>
    public bool OomKilled
    {
        get
        {
            lock (_lock)
            {
                return _reaped ? _oomKilled : _cgroup is not null && Health.CgroupMemory.OomKills(_cgroup.Path) > 0;
            }
        }
    }

    public Task<int> MainExited => _mainExited.Task;

    public Task TreeGone => _treeGone.Task;

    /// <summary>Whether it has a cgroup of its own (else its process group stands for its tree).</summary>
    public bool HasCgroup => _cgroup is not null;

    public bool Signal(int signal)
    {
        lock (_lock)
        {
            if (_reaped)
            {
                return false;
            }
            if (_cgroup is null)
            {
                return Interop.kill(-Pid, signal) == 0; // the unreaped leader keeps the group id from being reused
            }
            var reached = _status is null && Pidfd.Signal(_pidfd, signal);
            if (signal == Signals.SIGKILL && _cgroup.Kill())
            {
                return true;
            }
            foreach (var member in _cgroup.Processes())
            {
                reached |= member != Pid && SignalMember(member, signal);
            }
            return reached;
        }
    }

    /// <summary>
    /// Signals a process listed in the cgroup through a pidfd, and only if it is still in the cgroup once the pidfd is
    /// open: a pid recycled after the listing names a process outside, which is left alone.
    /// </summary>
    private bool SignalMember(int pid, int signal)
    {
        SafeFileHandle member;
        try
        {
            member = Pidfd.Open(pid);
        }
        catch (ErrnoException)
        {
            return false; // gone since the listing
        }
        using (member)
        {
            return _cgroup!.Contains(pid) && Pidfd.Signal(member, signal);
        }
    }

    /// <summary>The main process exited (watcher thread).</summary>
    private void OnMainExit()
    {
        int status;
        lock (_lock)
        {
            if (_status is not null || Pidfd.TryWait(_pidfd, reap: false) is not int exited)
            {
                return;
            }
            _status = status = exited;
            _watcher.Remove(_pidfd, _exitWatch);
            if (_cgroup is not null)
            {
                _eventsWatch = _watcher.Add(_cgroup.Events, Interop.EPOLLPRI, CheckTree);
            }
        }
        CheckTree(); // before MainExited completes: a tree already empty reads as one exit, not two steps
        _mainExited.TrySetResult(status);
    }

    /// <summary>Reaps the main process once nothing of the tree lives (watcher thread: cgroup change, SIGCHLD rescan).</summary>
    public void CheckTree()
    {
        lock (_lock)
        {
            if (_status is null || _reaped || (_cgroup?.IsPopulated() ?? ProcessTable.HasLiveMembers(Pid)))
            {
                return;
            }
            Pidfd.TryWait(_pidfd, reap: true);
            _reaped = true;
            _oomKilled = _cgroup is not null && Health.CgroupMemory.OomKills(_cgroup.Path) > 0; // a fresh cgroup counts from 0
            if (_eventsWatch is ulong watch)
            {
                _watcher.Remove(_cgroup!.Events, watch);
            }
            _cgroup?.Dispose();
            _pidfd.Dispose();
        }
        _gone(this);
        _treeGone.TrySetResult();
    }
}
