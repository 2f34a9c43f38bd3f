namespace Clusterd.Supervision;

/// <summary>
/// Starts worker processes. What becomes of each arrives later, on the supervisor loop, as <see cref="WorkerEvent"/>s
/// for the spec's worker and incarnation, in this order: <see cref="WorkerInput.Spawned"/> (with its
/// <see cref="IWorkerProcess"/>) or <see cref="WorkerInput.SpawnFailed"/>; then <see cref="WorkerInput.ExecSucceeded"/>
/// or <see cref="WorkerInput.ExecFailed"/>; then <see cref="WorkerInput.Exited"/> once the main process and everything
/// it started are gone, or <see cref="WorkerInput.MainExited"/> followed by <see cref="WorkerInput.TreeGone"/> when the
/// main process left others behind. <see cref="ProcessWorkerLauncher"/> is the real one; unit tests fake it.
/// </summary>
internal interface IWorkerLauncher : IDisposable
{
    /// <summary>What contains a worker's processes here (a cgroup each, or the process group), for the start log.</summary>
    string Containment { get; }

    void Launch(LaunchSpec spec);

    /// <summary>
    /// Runs a <c>command</c> health check: <paramref name="spec"/>'s program (no listeners) as the worker's user, given
    /// <paramref name="timeout"/> to exit 0. Completes with null if it did, else why not; with
    /// <see cref="OperationCanceledException"/> (the check killed) once <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    Task<string?> RunCheckAsync(LaunchSpec spec, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>
    /// Whether a spawn was taken off the queue within <paramref name="within"/>: the spawner is working through a
    /// queue, not stuck on one spawn (a slow NSS lookup).
    /// </summary>
    bool SpawnerMovedWithin(TimeSpan within);
}

/// <summary>One spawned worker: its main process and everything it started (its cgroup, or its process group).</summary>
internal interface IWorkerProcess
{
    int Pid { get; }

    /// <summary>The directory of the worker's own cgroup, or null without one: its CPU and memory cover its whole tree.</summary>
    string? Cgroup { get; }

    /// <summary>Whether the kernel's OOM killer has ended a process of the worker (its cgroup's memory.events); false without one.</summary>
    bool OomKilled { get; }

    /// <summary>
    /// Sends <paramref name="signal"/> to every process of the worker. Never reaches a process that is not the worker's:
    /// the main process is not reaped, so its pid and process group cannot be reused, until the tree is gone.
    /// Returns false when nothing was left to signal.
    /// </summary>
    bool Signal(int signal);
}
