using Clusterd.Platform;

namespace Clusterd.Supervision;

/// <summary>
/// A worker where clusterd has neither pidfds nor cgroups (macOS): known by its pid, which leads its own process group,
/// and reaped by <see cref="ChildReaper"/> as soon as it exits. A stop signal sent in the instant between that reaping
/// and the supervisor hearing of it could reach a recycled pid; docs/reliability.md says so.
/// </summary>
internal sealed class ProcessGroup : ITrackedProcess
{
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ProcessGroup(int pid, ChildReaper reaper)
    {
        Pid = pid;
        reaper.Watch(pid, status => _exited.TrySetResult(status));
    }

    public int Pid { get; }

    public string? Cgroup => null;

    public bool OomKilled => false;

    public Task<int> MainExited => _exited.Task;

    /// <summary>Nothing beyond the main process is tracked here.</summary>
    public Task TreeGone => _exited.Task;

    public bool Signal(int signal) => Signals.SignalGroup(Pid, signal);
}
