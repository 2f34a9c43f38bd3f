using System.Net.Sockets;
using Clusterd.Config;

namespace Clusterd.Supervision;

/// <summary>
/// One worker slot of a group: a stable index (einhorn's "index"), the process currently filling it, and
/// the history that drives its backoff. Touched only on the supervisor loop: its state and process only by
/// <see cref="WorkerStateMachine"/>; its place in the group (surge, sockets) by <see cref="Rollout"/> and the supervisor.
/// </summary>
internal sealed class Worker(GroupRuntime group, int slot)
{
    public GroupRuntime Group { get; } = group;

    public int Slot { get; } = slot;

    /// <summary>The configuration the current process was started with; the group's may have moved on (reload).</summary>
    public GroupConfig Config { get; set; } = group.Config;

    /// <summary>
    /// A replacement started by a rollout and not yet promoted into its slot. If it dies before it is ready it is
    /// not restarted: the rollout sees it stopped and aborts, leaving the old worker serving.
    /// </summary>
    public bool IsSurge { get; set; }

    /// <summary>
    /// Listeners of this process that are not (or no longer) its slot's: a replacement's own until it is promoted,
    /// a retired worker's old ones while it drains. It is spawned with them; they close once it is gone (docs/adr/0004).
    /// </summary>
    public IReadOnlyList<Socket>? OwnSockets { get; set; }

    /// <summary>Closes <see cref="OwnSockets"/> once no process of this worker can use them any more.</summary>
    public void CloseOwnSocketsIfGone()
    {
        if (OwnSockets is { } own && !WorkerStateMachine.HasProcess(State))
        {
            Group.Listeners.CloseUnrouted(own);
            OwnSockets = null;
        }
    }

    public WorkerState State { get; set { field = value; Touch(); } } = WorkerState.Stopped;

    /// <summary>The group generation the current process was started with (CLUSTERD_GENERATION).</summary>
    public int Generation { get; set { field = value; Touch(); } }

    /// <summary>Counts spawns of this slot; events from an earlier incarnation are stale and dropped.</summary>
    public int Incarnation { get; set; }

    public int Pid { get; set { field = value; Touch(); } }

    /// <summary>The current process and its tree; signals go through it, never to a bare pid.</summary>
    public IWorkerProcess? Process { get; set { field = value; Touch(); } }

    /// <summary>Set when the main process exited but left others running: the exit, acted on once they are gone.</summary>
    public ExitInfo? PendingExit { get; set; }

    public DateTimeOffset? SpawnedAt { get; set { field = value; Touch(); } }

    public DateTimeOffset? ReadyAt { get; set { field = value; Touch(); } }

    /// <summary>Whether the operator wants this slot running; false once a stop was asked for.</summary>
    public bool DesiredRunning { get; set; }

    /// <summary>Set when clusterd began stopping the process: the exit reason it will be recorded with.</summary>
    public string? StopReason { get; set; }

    public bool Killed { get; set; }

    public string? ExecError { get; set; }

    public bool ExecErrorTransient { get; set; }

    /// <summary>READY=1 arrived before the exec outcome did; honoured once the worker is online.</summary>
    public bool ReadyBeforeOnline { get; set; }

    /// <summary>The last STATUS= the worker sent.</summary>
    public string? Status { get; set { field = value; Touch(); } }

    public ExitInfo? LastExit { get; set { field = value; Touch(); } }

    public int Restarts { get; set { field = value; Touch(); } }

    public int ConsecutiveFailures { get; set; }

    /// <summary>The first of <see cref="ConsecutiveFailures"/> was replaced at once (it had been serving), with no backoff.</summary>
    public bool RespawnedAtOnce { get; set; }

    public Queue<DateTimeOffset> RecentRestarts { get; } = new();

    public IDisposable? StateTimer { get; set; }

    public IDisposable? WatchdogTimer { get; set; }

    /// <summary>What watches the current process's health (Supervisor.Health.cs); null until needed and once it is gone.</summary>
    public Health.WorkerHealth? Health
    {
        get;
        set
        {
            field = value;
            value?.LastCheckChanged = Touch;
            Touch();
        }
    }

    public long DroppedOutputLines;

    /// <summary>What <see cref="Snapshot"/> last returned; null once a property it shows was set.</summary>
    private WorkerSnapshot? _published;

    /// <summary>A property the snapshot shows was set: the next snapshot is built anew, and the group's shows it.</summary>
    private void Touch()
    {
        if (_published is not null)
        {
            _published = null;
            Group.Touched(this);
        }
    }

    /// <summary>
    /// This worker as the status snapshot shows it: the last one again when nothing in it changed. The loop publishes
    /// after every burst of events, and a start of 1000 workers is ~3000 bursts: rebuilding every worker each time was
    /// O(N²) over the start, and so was comparing every worker's fields to see whether to. So every property the
    /// snapshot shows drops it when set (a check's result through <see cref="Health"/>); only the output dropped by
    /// the capture threads, off the loop, is compared.
    /// </summary>
    public WorkerSnapshot Snapshot()
    {
        var dropped = Volatile.Read(ref DroppedOutputLines); // atomic, and unlike Interlocked.Read no locked instruction
        if (_published is { } published && published.DroppedOutputLines == dropped)
        {
            return published;
        }
        var check = Health?.LastCheck;
        var exit = LastExit;
        return _published = new WorkerSnapshot(
            Slot,
            Pid,
            WorkerStateMachine.PublicState(State),
            Generation,
            Restarts,
            WorkerStateMachine.HasProcess(State) ? SpawnedAt : null,
            State == WorkerState.Ready ? ReadyAt : null,
            exit?.Reason,
            exit?.Code,
            exit?.Signal,
            Status,
            dropped,
            Process?.Cgroup,
            check?.Passed,
            check?.Latency.TotalSeconds,
            check?.Failure);
    }

    public void ResetHistory()
    {
        ConsecutiveFailures = 0;
        RespawnedAtOnce = false;
        RecentRestarts.Clear();
    }

    public override string ToString() => $"{Group.Name}/{Slot}";
}
