namespace Clusterd.Supervision.Health;

/// <summary>
/// What clusterd watches of one worker process besides its exit: its memory samples and its max_lifetime timer.
/// Belongs to one process (<see cref="Pid"/>); touched only on the supervisor loop.
/// </summary>
internal sealed class WorkerHealth(int pid) : IDisposable
{
    public int Pid { get; } = pid;

    public MemoryHysteresis Memory { get; } = new();

    /// <summary>Fires once max_lifetime (with its jitter) is up; null when the group has none.</summary>
    public ITimer? LifetimeTimer { get; set; }

    public void Dispose() => LifetimeTimer?.Dispose();
}
