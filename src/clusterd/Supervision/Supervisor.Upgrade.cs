using System.Net.Sockets;
using System.Runtime.InteropServices;
using Clusterd.Config;
using Clusterd.Platform;
using Clusterd.Protocol;
using Clusterd.Readiness;
using Clusterd.Sockets;
using Clusterd.Supervision.Health;
using Clusterd.Supervision.Upgrade;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Clusterd.Supervision;

/// <summary>What the loop needs to hand clusterd over to another binary (docs/adr/0008).</summary>
/// <param name="Binary">What to exec.</param>
/// <param name="OldBinary">This image's binary: what a new one that cannot take over execs instead.</param>
/// <param name="Metrics">The counters, read on the loop (which is their only writer) when the state is taken.</param>
/// <param name="BeforeExec">Called on the loop once the state is taken and just before the exec (RELOADING=1).</param>
internal sealed record UpgradeHandoffRequest(
    string Binary,
    string OldBinary,
    IReadOnlyList<string> Arguments,
    string FromVersion,
    int ControlFd,
    Func<MetricsCounters> Metrics,
    Action BeforeExec);

/// <summary>
/// An in-place upgrade (docs/adr/0008), the loop's part: refuse while something is under way that cannot cross, take the
/// state, and hand it to the spawner thread's exec; in the new image, take everything over instead of binding and spawning.
/// </summary>
internal sealed partial class Supervisor
{
    /// <summary>The environment variable naming the state's memfd, set only for the exec.</summary>
    public const string UpgradeFdVariable = "CLUSTERD_UPGRADE_FD";

    private const int ESRCH = 3;

    /// <summary>
    /// Sockets taken over and not yet given to a group: kept reachable, so that a fallback exec after a failed adoption
    /// finds every fd still open (a finalizer would close it).
    /// </summary>
    private readonly Dictionary<int, Socket> _adopting = [];

    /// <summary>Replaces this process's image; the task completes only if that did not happen (refused, or the exec failed).</summary>
    /// <remarks>
    /// A spawn in flight is waited for rather than refused: its outcome (bounded by ready_timeout) is a moment away, and a
    /// crash-looping slot is spawning now and then. Anything else under way refuses at once.
    /// </remarks>
    public Task<OperationResult> UpgradeAsync(UpgradeHandoffRequest request) => Submit((s, done) => s.WaitFor(() =>
        s.UpgradeRefusal() is { } why ? Refused(why)
        : s._groups.Values.SelectMany(g => g.Workers).Any(w => w.State == WorkerState.Spawning) ? null
        : s.Upgrade(request), done));

    private static OperationResult Refused(string why) => OperationResult.Error(ErrorCodes.Busy, $"cannot upgrade now: {why}");

    /// <summary>
    /// Why the state cannot cross now, or null. What is under way must end first: its outcome belongs to this image. A
    /// command waiting for workers (start) is not: its client's connection ends with the exec, and it asks again.
    /// </summary>
    internal string? UpgradeRefusal()
    {
        if (_shuttingDown)
        {
            return "clusterd is shutting down";
        }
        if (Rolling)
        {
            return "a rollout is in progress (restart, reload, or a health recycle); upgrade once it has finished";
        }
        if (_removing.Count > 0)
        {
            return $"removed group '{_removing[0].Name}' is still stopping; upgrade once its workers are gone";
        }
        foreach (var group in _groups.Values)
        {
            if (group.Surge.Count + group.Retiring.Count > 0)
            {
                return $"{group.Name}: workers are being replaced or stopped; upgrade once that has finished";
            }
            foreach (var w in group.Workers)
            {
                if (w.State is WorkerState.Draining or WorkerState.Stopping or WorkerState.Killing)
                {
                    return $"{w} is {w.State.ToString().ToLowerInvariant()}; upgrade once it has settled";
                }
            }
        }
        return null;
    }

    private OperationResult Upgrade(UpgradeHandoffRequest request)
    {
        if (!OperatingSystem.IsLinux() || _launcher is not ProcessWorkerLauncher launcher)
        {
            return OperationResult.Error(ErrorCodes.Failed, "an in-place upgrade is Linux only; restart clusterd instead");
        }
        var notifies = _groups.Values.Select(g => g.Notify).OfType<NotifySocket>().ToArray();
        foreach (var notify in notifies)
        {
            notify.PauseReceiving();
            for (var turn = 0; turn <= notify.Inbox.Capacity; turn++)
            {
                OnNotify(notify); // everything read off the socket is handled here; the rest waits in it for the new image
            }
        }
        try
        {
            using var executable = HoldOwnExecutable(request.OldBinary);
            var state = CaptureUpgradeState(request, launcher) with { OldBinaryFd = (int?)executable?.DangerousGetHandle() };
            using var memfd = UpgradeHandoff.CreateSealed("clusterd-upgrade", UpgradeDocument.Serialize(state));
            var stateFd = (int)memfd.DangerousGetHandle();
            int[] inherited = [.. state.Descriptors(), stateFd];
            var environment = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
                .Where(e => (string)e.Key != UpgradeFdVariable)
                .Select(e => $"{e.Key}={e.Value}")
                .Append($"{UpgradeFdVariable}={stateFd}")
                .ToArray();
            request.BeforeExec();
            LogUpgrading(request.Binary, inherited.Length, _byPid.Count);
            launcher.RunOnSpawner(() =>
            {
                if (OperatingSystem.IsLinux())
                {
                    ExecKeeping(inherited, request.Binary, executable: null, [request.Binary, .. request.Arguments], environment);
                }
            });
            return OperationResult.Error(ErrorCodes.Internal, "the exec returned without an error; this probably indicates a bug in clusterd");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SocketException)
        {
            foreach (var notify in notifies)
            {
                notify.ResumeReceiving();
            }
            LogUpgradeFailed(request.Binary, e.Message);
            return OperationResult.Error(ErrorCodes.Failed, $"the upgrade failed and nothing changed: {e.Message}");
        }
        finally
        {
            _output.UnpinPipes(); // reached only when the exec did not happen
        }
    }

    /// <summary>
    /// This image's executable held open for the state, so that a new binary that cannot take over can exec this one
    /// even after a package renamed the new file over <paramref name="path"/>; null if it cannot be opened (no /proc):
    /// a fallback then goes by the path, as it is on disk.
    /// </summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private SafeFileHandle? HoldOwnExecutable(string path)
    {
        try
        {
            return UpgradeHandoff.OpenOwnExecutable();
        }
        catch (ErrnoException e)
        {
            LogExecutableNotHeld(path, e.Message);
            return null;
        }
    }

    /// <summary>
    /// The exec, on the spawner thread, with exactly <paramref name="inherited"/> made inheritable for it; if it fails
    /// they are close-on-exec again and this image goes on as if nothing had happened. <paramref name="executable"/>:
    /// the file to exec, held open; null: <paramref name="binary"/>'s path.
    /// </summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    internal static void ExecKeeping(IReadOnlyList<int> inherited, string binary, SafeHandle? executable, IReadOnlyList<string> argv,
        IReadOnlyList<string> environment)
    {
        try
        {
            foreach (var fd in inherited)
            {
                UpgradeHandoff.SetInheritable(fd, inheritable: true);
            }
            UpgradeHandoff.Exec(binary, executable, argv, environment);
        }
        finally
        {
            foreach (var fd in inherited)
            {
                UpgradeHandoff.SetInheritable(fd, inheritable: false); // reached only when the exec failed
            }
        }
    }

    private UpgradeState CaptureUpgradeState(UpgradeHandoffRequest request, ProcessWorkerLauncher launcher) => new(
        UpgradeDocument.Current,
        request.OldBinary,
        request.Arguments,
        request.FromVersion,
        _config!.Path,
        _config.Source,
        StartedAt,
        request.ControlFd,
        Journal.NextSeq,
        Journal.Since(0),
        request.Metrics(),
        launcher.Spawns,
        [.. _groups.Values.Select(g => new GroupState(
            g.Name,
            g.Generation,
            g.Desired,
            g.AdminStopped,
            g.Notify is { Fd: int fd } notify ? new NotifyState(fd, notify.Path, notify.Owner) : null,
            g.Listeners.Export(),
            [.. g.Workers.Select(CaptureWorker)]))],
        Logs.Export());

    private WorkerRecord CaptureWorker(Worker w) => new(
        w.Slot,
        w.State,
        w.Pid,
        w.Process?.Cgroup,
        w.Generation,
        w.SpawnedAt,
        w.ReadyAt,
        w.Status,
        w.Restarts,
        w.ConsecutiveFailures,
        w.RespawnedAtOnce,
        [.. w.RecentRestarts],
        w.LastExit,
        w.DesiredRunning,
        DeadlineOf(w.StateTimer),
        DeadlineOf(w.WatchdogTimer),
        w.OwnSockets is { } own ? [.. own.Select(GroupListeners.FdOf)] : null,
        _output.PipeFd(w, "stdout"),
        _output.PipeFd(w, "stderr"),
        Interlocked.Read(ref w.DroppedOutputLines),
        w.Health is { } health ? CaptureHealth(health) : null);

    private HealthRecord CaptureHealth(WorkerHealth h) => new(
        h.Socket is { } socket ? GroupListeners.FdOf(socket) : null,
        h.ChecksStarted,
        h.ConsecutiveFailures,
        h.ChecksStarted ? MonotonicNanoseconds(h.NextCheckDue) : null,
        h.LifetimeDue is { } lifetime ? MonotonicNanoseconds(lifetime.Due) : null,
        h.LifetimeDue?.Lifetime ?? TimeSpan.Zero,
        h.LastCheck is { } last ? new CheckResult(last.Passed, last.Latency, last.Failure) : null);

    private long? DeadlineOf(IDisposable? timer) => timer is WorkerTimer { Disposed: false } armed ? MonotonicNanoseconds(armed.Due) : null;

    private long MonotonicNanoseconds(long timestamp) => (long)(timestamp * (1e9 / Time.TimestampFrequency));

    private TimeSpan Until(long deadline) =>
        TimeSpan.FromTicks(Math.Max(0, (deadline - MonotonicNanoseconds(Time.GetTimestamp())) / 100));

    /// <summary>
    /// Takes <paramref name="adoption"/> over, or falls back to the binary that wrote it (which takes it over instead).
    /// The takeover is complete once the control socket accepts again (<see cref="Hosting.SupervisorService"/>).
    /// </summary>
    private void Adopt(ClusterConfig config, UpgradeAdoption adoption)
    {
        try
        {
            AdoptGroups(config, adoption.State);
        }
        catch (Exception e)
        {
            // Nothing taken over is closed on the way: the groups and _adopting hold every socket, pipe and pidfd until the exec.
            LogAdoptionFailed(e, adoption.State.OldBinary);
            adoption.FallBack($"taking the state over failed: {e.Message}");
        }
        StartedAt = adoption.State.StartedAt;
        if (adoption.FallbackReason is { } failure)
        {
            UpgradeFailure = failure;
            LogFellBack(failure);
        }
    }

    /// <summary>Why the last upgrade did not happen, when this image is the old binary that took its state back (<c>clusterctl version</c>).</summary>
    public string? UpgradeFailure { get; private set; }

    /// <summary>
    /// Instead of binding and spawning: the groups, sockets and workers of <paramref name="state"/>, taken over as they
    /// are. Workers are not spawned again (same pids, same generations); timers go on to their deadlines.
    /// </summary>
    private void AdoptGroups(ClusterConfig config, UpgradeState state)
    {
        if (!OperatingSystem.IsLinux() || _launcher is not ProcessWorkerLauncher launcher)
        {
            throw new UpgradeStateException("an in-place upgrade is Linux only");
        }
        Journal.Restore(state.Journal, state.NextSeq);
        Logs.Restore(state.Logs ?? []);
        KillAbandonedChecks(state.Groups.SelectMany(g => g.Workers).Select(w => w.Cgroup).OfType<string>());
        launcher.Spawns = state.Spawns;
        Socket SocketOf(int fd)
        {
            if (!_adopting.TryGetValue(fd, out var socket))
            {
                socket = _adopting[fd] = new Socket(new SafeSocketHandle(fd, ownsHandle: true)); // the group's now
                Descriptors.SetInheritable(socket.SafeHandle, inheritable: false);
            }
            return socket;
        }
        foreach (var adopted in state.Groups)
        {
            var groupConfig = config.Groups.FirstOrDefault(g => g.Name == adopted.Name)
                ?? throw new UpgradeStateException($"group '{adopted.Name}' is in the state but not in its config");
            var notify = adopted.Notify is { } n
                ? NotifySocket.Adopt(n.Fd, n.Path, n.Owner, adopted.Name, socket => Post(new NotifyEvent(socket)), _logger, Time)
                : null;
            var listeners = GroupListeners.Adopt(groupConfig, adopted.Listeners, SocketOf, _sockets, why => LogSteeringFailed(adopted.Name, why));
            var group = new GroupRuntime(groupConfig, listeners, adopted.Generation)
            {
                Notify = notify,
                Desired = adopted.Desired,
                AdminStopped = adopted.AdminStopped,
            };
            group.Workers.Clear();
            _groups.Add(group.Name, group);
            foreach (var record in adopted.Workers)
            {
                group.Workers.Add(AdoptWorker(group, record, launcher, SocketOf));
            }
        }
        _adopting.Clear(); // each socket belongs to its group now
        LogAdopted(state.FromVersion, _groups.Count, _byPid.Count);
    }

    private Worker AdoptWorker(GroupRuntime group, WorkerRecord r, ProcessWorkerLauncher launcher, Func<int, Socket> socketOf)
    {
        var w = new Worker(group, r.Slot)
        {
            State = r.State,
            Generation = r.Generation,
            Incarnation = 1,
            SpawnedAt = r.SpawnedAt,
            ReadyAt = r.ReadyAt,
            Status = r.Status,
            Restarts = r.Restarts,
            ConsecutiveFailures = r.ConsecutiveFailures,
            RespawnedAtOnce = r.RespawnedAtOnce,
            LastExit = r.LastExit,
            DesiredRunning = r.DesiredRunning,
            OwnSockets = r.OwnSockets is { } own ? [.. own.Select(socketOf)] : null,
            DroppedOutputLines = r.DroppedOutputLines,
        };
        foreach (var restart in r.RecentRestarts)
        {
            w.RecentRestarts.Enqueue(restart);
        }
        if (r.Pid > 0)
        {
            w.Pid = r.Pid;
            try
            {
                w.Process = launcher.Adopt(w, w.Incarnation, r.Pid, r.Cgroup);
                _byPid[r.Pid] = w;
            }
            catch (ErrnoException e) when (e.Errno == ESRCH)
            {
                // It exited, and its tree with it, between the state and the exec: the exit status went with that image.
                LogAdoptedGone(group.Name, r.Slot, r.Pid);
                Post(new WorkerEvent(w, w.Incarnation, WorkerInput.Exited));
            }
            if (r.Stdout is int stdout)
            {
                _output.Adopt(w, stdout, "stdout");
            }
            if (r.Stderr is int stderr)
            {
                _output.Adopt(w, stderr, "stderr");
            }
        }
        if (r.Health is { } health)
        {
            AdoptHealth(w, health, socketOf); // its socket is owned even if the process is gone: its exit disposes it
        }
        IWorkerHost host = this;
        if (r.TimerDue is long due)
        {
            w.StateTimer = host.ArmTimer(w, WorkerInput.StateTimer, Until(due));
        }
        if (r.WatchdogDue is long watchdog)
        {
            w.WatchdogTimer = host.ArmTimer(w, WorkerInput.WatchdogTimer, Until(watchdog));
        }
        return w;
    }

    /// <summary>
    /// Before any check of this image starts: a command check the previous image was running at the exec is nobody's
    /// now, and its timeout would never be enforced. It is killed with its cgroup (a sibling of its worker's, named
    /// SLOT-check-N), counted as neither a pass nor a failure, and its process reaped as an orphan. Without cgroups it
    /// runs to its own end.
    /// </summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private static void KillAbandonedChecks(IEnumerable<string> workerCgroups)
    {
        foreach (var parent in workerCgroups.Select(Path.GetDirectoryName).OfType<string>().Distinct().Where(Directory.Exists))
        {
            foreach (var check in Directory.EnumerateDirectories(parent, "*-check-*"))
            {
                try
                {
                    using var cgroup = new WorkerCgroup(check); // removed once empty, else a harmless leftover
                    cgroup.Kill();
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // It ended and went meanwhile: nothing left to kill.
                }
            }
        }
    }

    /// <summary>The health watch goes on: its socket, its counts, the check loop from its next due check, the max_lifetime deadline.</summary>
    private void AdoptHealth(Worker w, HealthRecord r, Func<int, Socket> socketOf)
    {
        var health = HealthOf(w);
        health.Socket = r.Socket is int fd ? socketOf(fd) : null;
        health.ConsecutiveFailures = r.ConsecutiveFailures;
        health.LastCheck = r.LastCheck is { } last ? (last.Passed, last.Latency, last.Failure) : null;
        if (r.ChecksStarted && w.Config.Health.Check is { } check && CheckOf(w, check, health) is { } runCheck)
        {
            health.ChecksStarted = true;
            _ = ProbeAsync(w, health, check, runCheck, r.NextCheckDue is long next ? Until(next) : TimeSpan.Zero);
        }
        if (r.LifetimeDue is long due)
        {
            ArmLifetime(w, health, r.Lifetime, Until(due));
        }
    }

    [LoggerMessage(EventId = 60, Level = LogLevel.Warning,
        Message = "upgrading in place: exec {Binary} with {Fds} descriptors and {Workers} workers handed on")]
    private partial void LogUpgrading(string binary, int fds, int workers);

    [LoggerMessage(EventId = 70, Level = LogLevel.Warning,
        Message = "cannot hold {Binary} open for the upgrade ({Reason}): should the new binary fail to take over, the fallback execs whatever is at that path then")]
    private partial void LogExecutableNotHeld(string binary, string reason);

    [LoggerMessage(EventId = 61, Level = LogLevel.Error, Message = "upgrade to {Binary} failed; this clusterd goes on: {Reason}")]
    private partial void LogUpgradeFailed(string binary, string reason);

    [LoggerMessage(EventId = 62, Level = LogLevel.Warning,
        Message = "upgraded in place from clusterd {FromVersion}: took over {Groups} groups and {Workers} worker processes")]
    private partial void LogAdopted(string fromVersion, int groups, int workers);

    [LoggerMessage(EventId = 64, Level = LogLevel.Critical,
        Message = "taking over the upgrade state failed; falling back to {OldBinary}, which takes it over instead")]
    private partial void LogAdoptionFailed(Exception exception, string oldBinary);

    [LoggerMessage(EventId = 65, Level = LogLevel.Error,
        Message = "the upgrade did not happen: the new binary could not take over ({Reason}); this clusterd took its state back and goes on")]
    private partial void LogFellBack(string reason);

    [LoggerMessage(EventId = 63, Level = LogLevel.Warning,
        Message = "{Group}/{Slot}: pid {Pid} exited during the upgrade; its exit status is lost, and it is handled as a clean exit")]
    private partial void LogAdoptedGone(string group, int slot, int pid);
}
