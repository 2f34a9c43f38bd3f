using Clusterd.Protocol;
using Clusterd.Protocol.Messages;

namespace Clusterd.Supervision.Upgrade;

/// <summary>
/// What crosses an in-place upgrade (docs/adr/0008): everything the supervisor loop owns, as data, and every kernel
/// object it holds named by its fd number (each one's FD_CLOEXEC is cleared only for the exec). Written by the old
/// binary into a sealed memfd, read by the new one (or, if the new one fails, by the old one again).
/// </summary>
/// <param name="Version">The format's version: <see cref="UpgradeDocument.Current"/> when written.</param>
/// <param name="OldBinary">The binary that wrote this: what a new binary that cannot take over execs instead.</param>
/// <param name="Arguments">clusterd's arguments (argv without argv[0]): the new binary runs with the same ones.</param>
/// <param name="FromVersion">The writer's version, for the log line that says what was upgraded to what.</param>
/// <param name="ConfigText">
/// The configuration in force, as the text it was loaded from: the new binary parses this, not the file, which may
/// have been edited since the last reload.
/// </param>
/// <param name="StartedAt">When clusterd first started: an upgrade is not a restart (<c>clusterctl version</c>).</param>
/// <param name="ControlFd">The control socket, listening: connections made during the exec wait in its backlog.</param>
/// <param name="NextSeq">The lifecycle journal's next seq: the events clients resume from go on without a gap.</param>
/// <param name="Journal">The journal's tail, oldest first.</param>
/// <param name="Spawns">The launcher's spawn count, which names worker cgroups: new names must not meet adopted ones.</param>
/// <param name="Logs">
/// The log book behind <c>clusterctl logs</c>, oldest first: bounded as the book is (2000 lines of at most 4 KiB per
/// group). Added in version 2: a version 1 state has none, and the book starts empty.
/// </param>
/// <param name="OldBinaryFd">
/// The writer's own executable, held open (/proc/self/exe): what a fallback execs, since after a package upgrade
/// <paramref name="OldBinary"/> names the new file. Null when it could not be opened (the fallback goes by the path),
/// and in a state before version 3. Whichever image reads the state owns it, and closes it once it has taken over.
/// </param>
internal sealed record UpgradeState(
    int Version,
    string OldBinary,
    IReadOnlyList<string> Arguments,
    string FromVersion,
    string ConfigPath,
    string ConfigText,
    DateTimeOffset StartedAt,
    int ControlFd,
    long NextSeq,
    IReadOnlyList<LifecycleEvent> Journal,
    MetricsCounters Metrics,
    long Spawns,
    IReadOnlyList<GroupState> Groups,
    IReadOnlyList<LogLine>? Logs = null,
    int? OldBinaryFd = null)
{
    /// <summary>Every fd the state names: each must be inheritable for the exec, and each is the new image's after it.</summary>
    public IEnumerable<int> Descriptors() =>
        Groups.SelectMany(g => (g.Notify is { } n ? [n.Fd] : Array.Empty<int>())
            .Concat(g.Listeners.SelectMany(a => a.Slots.Select(s => s.Fd).Concat(a.Unrouted)))
            .Concat(g.Workers.SelectMany(w => (w.OwnSockets ?? []).Concat(new[] { w.Stdout, w.Stderr, w.Health?.Socket }.OfType<int>()))))
        .Append(ControlFd)
        .Concat(OldBinaryFd is int executable ? [executable] : Array.Empty<int>())
        .Distinct();
}

/// <param name="Desired">The worker count, which <c>clusterctl scale</c> may have moved away from the config's.</param>
/// <param name="AdminStopped">Stopped by <c>clusterctl stop</c>: nothing starts until <c>start</c>.</param>
/// <param name="Listeners">In <c>listen</c> order, as the config lists them.</param>
/// <param name="Workers">One per slot, in slot order.</param>
internal sealed record GroupState(
    string Name,
    int Generation,
    int Desired,
    bool AdminStopped,
    NotifyState? Notify,
    IReadOnlyList<AddressState> Listeners,
    IReadOnlyList<WorkerRecord> Workers);

/// <summary>The group's NOTIFY_SOCKET: what was queued on it during the exec is read by the new binary.</summary>
/// <param name="Owner">The uid the socket file was given, null for clusterd's own.</param>
internal sealed record NotifyState(int Fd, string Path, uint? Owner);

/// <summary>
/// The sockets of one listen address. A shared address (or a <c>unix:</c> one) has one socket under slot
/// <see cref="SharedSlot"/>; a reuseport address one per slot, the unrouted ones of replacements that are not yet
/// ready, and the slots vacated by a dead worker. The BPF program that steers them stays attached to the
/// SO_REUSEPORT group through the exec; the new binary attaches its own (docs/adr/0004).
/// </summary>
internal sealed record AddressState(string Address, bool Shared, IReadOnlyList<SlotSocket> Slots, IReadOnlyList<int> Unrouted, IReadOnlyList<int> Vacated)
{
    public const int SharedSlot = -1;
}

internal sealed record SlotSocket(int Slot, int Fd);

/// <summary>
/// One worker slot. A process (<see cref="Pid"/> &gt; 0) is adopted as it is: clusterd's child, not reaped, so the pid
/// still names it; the new binary opens its own pidfd. Timers cross as absolute deadlines on the monotonic clock,
/// which an exec does not reset: a backoff or a ready_timeout ends when it would have without the upgrade.
/// </summary>
/// <param name="TimerDue">The state's timer (backoff, ready_timeout, min_uptime) as monotonic nanoseconds; null: none armed.</param>
/// <param name="WatchdogDue">The watchdog's deadline, as <paramref name="TimerDue"/>.</param>
/// <param name="OwnSockets">A replacement's own unrouted sockets (after its slot was vacated), in <c>listen</c> order.</param>
/// <param name="Stdout">The read end of the worker's stdout pipe; what it wrote during the exec waits there.</param>
/// <param name="Health">What watches the process's health (checks, max_lifetime); null: nothing (and in a version 1 state).</param>
internal sealed record WorkerRecord(
    int Slot,
    WorkerState State,
    int Pid,
    string? Cgroup,
    int Generation,
    DateTimeOffset? SpawnedAt,
    DateTimeOffset? ReadyAt,
    string? Status,
    int Restarts,
    int ConsecutiveFailures,
    bool RespawnedAtOnce,
    IReadOnlyList<DateTimeOffset> RecentRestarts,
    ExitInfo? LastExit,
    bool DesiredRunning,
    long? TimerDue,
    long? WatchdogDue,
    IReadOnlyList<int>? OwnSockets,
    int? Stdout,
    int? Stderr,
    long DroppedOutputLines,
    HealthRecord? Health = null);

/// <summary>
/// A worker's health watch (Supervision/Health/WorkerHealth.cs), added in version 2. The check's counts go on; a check
/// running at the exec is abandoned and counts as neither a pass nor a failure (the new image kills a command check's
/// process, which nobody watches any more), and the next one is due when it would have been. start_period follows from the spawn time. The
/// max_memory samples start again.
/// </summary>
/// <param name="Socket">The process's own health socket (http and tcp checks), listening; null for a command check or none.</param>
/// <param name="ChecksStarted">The check loop runs: the new image starts its own.</param>
/// <param name="NextCheckDue">When the next check is due, as <see cref="WorkerRecord.TimerDue"/>; null: at once.</param>
/// <param name="LifetimeDue">When max_lifetime (with this worker's jitter) is up, as <see cref="WorkerRecord.TimerDue"/>; null: no such timer.</param>
/// <param name="Lifetime">That lifetime with its jitter, for the log line that says it is up.</param>
/// <param name="LastCheck">The last check's result (status shows it); null before the first.</param>
internal sealed record HealthRecord(
    int? Socket,
    bool ChecksStarted,
    int ConsecutiveFailures,
    long? NextCheckDue,
    long? LifetimeDue,
    TimeSpan Lifetime,
    CheckResult? LastCheck);

/// <param name="Failure">Why it failed; null when it passed.</param>
internal sealed record CheckResult(bool Passed, TimeSpan Latency, string? Failure);

/// <summary>The metrics' counters, which must not go back to 0 (Prometheus would read a reset).</summary>
internal sealed record MetricsCounters(
    IReadOnlyList<CounterValue> Events,
    IReadOnlyList<CounterValue> Exits,
    IReadOnlyList<CounterValue> Restarts,
    IReadOnlyList<CounterValue> HealthChecks,
    IReadOnlyList<CounterValue> LogDrops,
    long ReloadSuccesses,
    long ReloadFailures)
{
    public static readonly MetricsCounters None = new([], [], [], [], [], 0, 0);
}

/// <param name="Key">The series' second label: the event kind, exit reason, check result or drop reason ("" for restarts).</param>
internal sealed record CounterValue(string Group, string Key, long Value);
