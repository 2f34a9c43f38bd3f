using Clusterd.Config;
using Clusterd.Protocol;

namespace Clusterd.Supervision;

/// <summary>
/// Detailed phases of one worker slot, after systemd's service states. Only <see cref="WorkerStateMachine.PublicState"/>
/// reaches operators and metrics.
/// </summary>
internal enum WorkerState
{
    Stopped,
    Spawning,   // asked the launcher for a process; pid may not be known yet
    Starting,   // execve succeeded ("online"); waiting for READY=1 or min_uptime
    Ready,      // serving ("listening")
    Draining,   // retired by a rollout: gets no new connection, finishes what it has; stop signal after drain_delay
    Stopping,   // stop signal sent; stop_timeout armed
    Killing,    // SIGKILL sent to the process group; waiting for the exit
    Backoff,    // between a death and the next spawn
    Failed,     // crash loop or unstartable: no more spawns until started again
}

internal enum WorkerInput
{
    Start,
    Spawned,        // Arg = pid, Process = the new process
    SpawnFailed,    // Text = why no process could be started; Transient = worth another try
    ExecSucceeded,
    ExecFailed,     // Text = clusterd-exec's message; Transient = worth another try
    NotifyReady,
    NotifyWatchdog,
    HealthPassed,   // a health check of the process passed
    Exited,         // Arg = waitpid's status word; the main process and everything it started are gone
    MainExited,     // Arg = waitpid's status word; processes it started remain: TreeGone follows
    TreeGone,       // the last process of a worker whose main process had exited is gone
    Stop,
    Drain,          // a rollout retired it; its own sockets no longer get new connections. Stop and Drain: Text = the exit reason (default "stopped")
    StateTimer,
    WatchdogTimer,
}

/// <summary>What the state machine asks of its owner. The supervisor implements it; unit tests fake it.</summary>
internal interface IWorkerHost
{
    TimeProvider Time { get; }

    /// <summary>Starts a process for the worker; the outcome arrives later (see <see cref="IWorkerLauncher"/>).</summary>
    void Spawn(Worker worker);

    /// <summary>See <see cref="IWorkerLauncher.SpawnerMovedWithin"/>.</summary>
    bool SpawnerMovedWithin(TimeSpan within);

    /// <summary>Signals every process of the worker (its cgroup or process group).</summary>
    void Signal(Worker worker, int signal);

    /// <summary>Delivers <paramref name="input"/> to the worker through the supervisor loop after <paramref name="delay"/>.</summary>
    IDisposable ArmTimer(Worker worker, WorkerInput input, TimeSpan delay);

    void Record(Worker worker, string kind, string? reason = null, int? exitCode = null, int? signal = null, TimeSpan? delay = null);

    void StateChanged(Worker worker, WorkerState from, WorkerState to, string why);
}

/// <summary>
/// The one place where a worker changes state. <see cref="Handle"/> is the (state, input) table; every
/// transition goes through <see cref="SetState"/>, which drops the timers the new state does not need.
/// </summary>
internal static class WorkerStateMachine
{
    private const int SIGABRT = 6;

    // After SIGKILL a process can only linger in uninterruptible sleep; say so once, keep waiting.
    private static readonly TimeSpan s_killGrace = TimeSpan.FromSeconds(5);

    public static PublicWorkerState PublicState(WorkerState state) => state switch
    {
        WorkerState.Stopped => PublicWorkerState.Stopped,
        WorkerState.Spawning or WorkerState.Starting => PublicWorkerState.Starting,
        WorkerState.Ready => PublicWorkerState.Ready,
        WorkerState.Draining => PublicWorkerState.Draining,
        WorkerState.Stopping or WorkerState.Killing => PublicWorkerState.Stopping,
        WorkerState.Backoff => PublicWorkerState.Backoff,
        WorkerState.Failed => PublicWorkerState.Failed,
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };

    public static bool HasProcess(WorkerState state) =>
        state is WorkerState.Spawning or WorkerState.Starting or WorkerState.Ready or WorkerState.Draining or WorkerState.Stopping or WorkerState.Killing;

    /// <summary>Returns false when the input means nothing in the current state (it is then ignored).</summary>
    public static bool Handle(IWorkerHost host, Worker w, WorkerInput input, int arg = 0, string? text = null,
        IWorkerProcess? process = null, bool transient = false)
    {
        switch (w.State, input)
        {
            case (WorkerState.Stopped or WorkerState.Failed, WorkerInput.Start):
                w.ResetHistory();
                Spawn(host, w, restart: false);
                return true;
            case (WorkerState.Backoff, WorkerInput.StateTimer):
                Spawn(host, w, restart: true);
                return true;
            case (WorkerState.Backoff, WorkerInput.Stop):
                SetState(host, w, WorkerState.Stopped, "stop requested during backoff");
                return true;

            case (WorkerState.Spawning, WorkerInput.Spawned):
                w.Pid = arg;
                w.Process = process;
                w.SpawnedAt = host.Time.GetUtcNow();
                host.Record(w, LifecycleEventKinds.Fork);
                // ready_timeout for the exec outcome counts from the fork, not from the queueing: behind a long spawn
                // queue (1000 workers on a busy host) a worker would be killed just after its fork.
                w.StateTimer?.Dispose();
                w.StateTimer = host.ArmTimer(w, WorkerInput.StateTimer, w.Config.ReadyTimeout);
                if (w.StopReason is not null)
                {
                    BeginStop(host, w, w.StopReason, w.Config.StopSignal); // a stop arrived before the pid did
                }
                return true;
            case (WorkerState.Spawning, WorkerInput.SpawnFailed):
                w.LastExit = new ExitInfo(ExitReasons.ExecFailed, null, null, text, transient);
                host.Record(w, LifecycleEventKinds.Exit, ExitReasons.ExecFailed);
                Died(host, w, w.LastExit); // EAGAIN, EMFILE...: backs off like any other death; the rest fail the slot
                return true;
            case (WorkerState.Spawning, WorkerInput.StateTimer) when w.Pid == 0 && host.SpawnerMovedWithin(w.Config.ReadyTimeout):
                // Still queued behind other spawns (1000 workers on a busy host), not stuck: giving up would only queue
                // it again at the back, and spawn the first one anyway.
                w.StateTimer = host.ArmTimer(w, WorkerInput.StateTimer, w.Config.ReadyTimeout);
                return true;
            case (WorkerState.Spawning, WorkerInput.StateTimer) when w.Pid == 0:
                // Not even a process within ready_timeout: the spawner is stuck (a slow NSS lookup?). Try again later;
                // if the stuck spawn ever completes, its process belongs to a past incarnation and is killed.
                w.LastExit = new ExitInfo(ExitReasons.ReadyTimeout, null, null, "no process was started within ready_timeout", Transient: true);
                host.Record(w, LifecycleEventKinds.Exit, ExitReasons.ReadyTimeout);
                Died(host, w, w.LastExit);
                return true;
            case (WorkerState.Spawning, WorkerInput.StateTimer):
                // The exec outcome did not come within ready_timeout: clusterd-exec hangs (NSS? a dead NFS cwd?).
                BeginStop(host, w, ExitReasons.ReadyTimeout, w.Config.StopSignal);
                return true;
            case (WorkerState.Spawning, WorkerInput.ExecSucceeded):
                host.Record(w, LifecycleEventKinds.Online);
                SetState(host, w, WorkerState.Starting, "exec succeeded");
                var g = w.Config;
                if (g.Ready == ReadyMode.Notify && w.ReadyBeforeOnline)
                {
                    BecomeReady(host, w);
                    return true;
                }
                w.StateTimer = g.Ready == ReadyMode.Started
                    ? host.ArmTimer(w, WorkerInput.StateTimer, g.MinUptime)
                    : host.ArmTimer(w, WorkerInput.StateTimer, g.ReadyTimeout);
                return true;
            case (WorkerState.Spawning, WorkerInput.NotifyReady):
                // The exec outcome and the notify socket are read by different tasks: READY=1 may overtake "online".
                w.ReadyBeforeOnline = true;
                return true;
            case (WorkerState.Spawning or WorkerState.Stopping or WorkerState.Killing, WorkerInput.ExecFailed):
                w.ExecError = text; // the exit follows; it decides
                w.ExecErrorTransient = transient;
                return true;
            case (WorkerState.Stopping or WorkerState.Killing, WorkerInput.ExecSucceeded):
                host.Record(w, LifecycleEventKinds.Online); // stopped before it got going; still, it did start
                return true;

            case (WorkerState.Starting, WorkerInput.NotifyReady) when w.Config.Ready == ReadyMode.Notify:
            case (WorkerState.Starting, WorkerInput.StateTimer) when w.Config.Ready == ReadyMode.Started:
            case (WorkerState.Starting, WorkerInput.HealthPassed) when w.Config.Ready == ReadyMode.Health:
                BecomeReady(host, w);
                return true;
            case (WorkerState.Starting, WorkerInput.StateTimer):
                BeginStop(host, w, ExitReasons.ReadyTimeout, w.Config.StopSignal);
                return true;

            case (WorkerState.Ready or WorkerState.Draining, WorkerInput.NotifyWatchdog):
                ArmWatchdog(host, w);
                return true;
            case (WorkerState.Ready or WorkerState.Draining, WorkerInput.WatchdogTimer):
                BeginStop(host, w, ExitReasons.Watchdog, SIGABRT); // as systemd does, so the worker can dump core
                return true;

            case (WorkerState.Starting or WorkerState.Ready, WorkerInput.Drain) when w.Config.DrainDelay > TimeSpan.Zero:
                w.DesiredRunning = false;
                w.StopReason = text ?? ExitReasons.Stopped;
                host.Record(w, LifecycleEventKinds.Disconnect, w.StopReason);
                SetState(host, w, WorkerState.Draining, $"no new connections; {w.Config.StopSignalName} in {w.Config.DrainDelay.TotalSeconds:0.###}s");
                w.StateTimer = host.ArmTimer(w, WorkerInput.StateTimer, w.Config.DrainDelay);
                return true;
            case (WorkerState.Spawning or WorkerState.Starting or WorkerState.Ready or WorkerState.Draining, WorkerInput.Stop):
            case (WorkerState.Spawning or WorkerState.Starting or WorkerState.Ready, WorkerInput.Drain): // no drain_delay
                w.DesiredRunning = false;
                BeginStop(host, w, w.State == WorkerState.Draining ? w.StopReason! : text ?? ExitReasons.Stopped, w.Config.StopSignal);
                return true;
            case (WorkerState.Draining, WorkerInput.StateTimer):
                BeginStop(host, w, w.StopReason!, w.Config.StopSignal);
                return true;
            case (WorkerState.Stopping or WorkerState.Killing, WorkerInput.Stop):
                w.DesiredRunning = false; // already on its way down; only the outcome changes
                return true;
            case (WorkerState.Stopping or WorkerState.Killing or WorkerState.Draining, WorkerInput.Start):
                w.DesiredRunning = true; // once it is down, the restart policy brings it back
                return true;
            case (WorkerState.Backoff or WorkerState.Spawning or WorkerState.Starting or WorkerState.Ready, WorkerInput.Start):
                return true; // already running or about to: nothing to do
            case (WorkerState.Stopping, WorkerInput.StateTimer):
                host.Signal(w, Platform.Signals.SIGKILL);
                w.Killed = true;
                SetState(host, w, WorkerState.Killing, $"still running {w.Config.StopTimeout.TotalSeconds:0.###}s after {w.Config.StopSignalName}");
                w.StateTimer = host.ArmTimer(w, WorkerInput.StateTimer, s_killGrace);
                return true;
            case (WorkerState.Killing, WorkerInput.StateTimer):
                host.StateChanged(w, w.State, w.State, "still not reaped after SIGKILL; is it in uninterruptible sleep (D state)?");
                return true;

            case (_, WorkerInput.Exited) when HasProcess(w.State):
                Died(host, w, MainExit(host, w, arg));
                return true;
            case (_, WorkerInput.MainExited) when HasProcess(w.State):
                var exit = MainExit(host, w, arg);
                w.PendingExit = exit;
                if (w.State is not (WorkerState.Stopping or WorkerState.Killing))
                {
                    // As systemd's KillMode=control-group: what the main process left behind is stopped, then killed.
                    host.Signal(w, w.Config.StopSignal);
                    SetState(host, w, WorkerState.Stopping, $"main process {Describe(exit)}; stopping the processes it left");
                    w.StateTimer = host.ArmTimer(w, WorkerInput.StateTimer, w.Config.StopTimeout);
                }
                return true;
            case (WorkerState.Stopping or WorkerState.Killing, WorkerInput.TreeGone) when w.PendingExit is { } pending:
                Died(host, w, pending);
                return true;

            default:
                return false;
        }
    }

    private static void Spawn(IWorkerHost host, Worker w, bool restart)
    {
        // Every new process takes the group's current configuration and generation (a reload may have changed them).
        w.Config = w.Group.Config;
        w.Generation = w.Group.Generation;
        w.Incarnation++;
        w.Pid = 0;
        w.Process = null;
        w.PendingExit = null;
        w.ExecError = null;
        w.ExecErrorTransient = false;
        w.ReadyBeforeOnline = false;
        w.StopReason = null;
        w.Killed = false;
        w.DesiredRunning = true;
        w.ReadyAt = null;
        if (restart)
        {
            host.Record(w, LifecycleEventKinds.Restart);
        }
        SetState(host, w, WorkerState.Spawning, restart ? "backoff elapsed" : "start");
        w.StateTimer = host.ArmTimer(w, WorkerInput.StateTimer, w.Config.ReadyTimeout); // for the exec outcome
        host.Spawn(w);
    }

    private static void BecomeReady(IWorkerHost host, Worker w)
    {
        w.ReadyAt = host.Time.GetUtcNow();
        SetState(host, w, WorkerState.Ready, w.Config.Ready switch
        {
            ReadyMode.Notify => "READY=1",
            ReadyMode.Health => "its first health check passed",
            _ => "stayed up for min_uptime",
        });
        host.Record(w, LifecycleEventKinds.Listening);
        ArmWatchdog(host, w);
    }

    private static void ArmWatchdog(IWorkerHost host, Worker w)
    {
        var timeout = w.Config.WatchdogTimeout;
        if (timeout > TimeSpan.Zero)
        {
            w.WatchdogTimer?.Dispose();
            w.WatchdogTimer = host.ArmTimer(w, WorkerInput.WatchdogTimer, timeout);
        }
    }

    private static void BeginStop(IWorkerHost host, Worker w, string reason, int signal)
    {
        w.StopReason = reason;
        if (w.Pid == 0)
        {
            return; // Spawned will come back here once the pid is known
        }
        if (w.State != WorkerState.Draining)
        {
            host.Record(w, LifecycleEventKinds.Disconnect, reason); // a draining worker disconnected when it began to drain
        }
        host.Signal(w, signal);
        SetState(host, w, WorkerState.Stopping, reason);
        w.StateTimer = host.ArmTimer(w, WorkerInput.StateTimer, w.Config.StopTimeout);
    }

    /// <summary>The main process ended: what it means, recorded as the exit event.</summary>
    private static ExitInfo MainExit(IWorkerHost host, Worker w, int waitStatus)
    {
        var exit = Classify(w, waitStatus);
        w.LastExit = exit;
        host.Record(w, LifecycleEventKinds.Exit, exit.Reason, exit.Code, exit.Signal);
        return exit;
    }

    /// <summary>Nothing of the worker runs any more: restart it, back off, or let it rest.</summary>
    private static void Died(IWorkerHost host, Worker w, ExitInfo exit)
    {
        w.Pid = 0;
        w.Process = null;
        w.PendingExit = null;

        if (exit.Reason == ExitReasons.ExecFailed && !exit.Transient)
        {
            Fail(host, w, $"cannot start the worker: {exit.Detail}; fix the command and start the group again");
            return;
        }
        var policy = w.Config.Restart;
        var clean = exit.Reason is ExitReasons.Exited && exit.Code == 0;
        if (w.IsSurge)
        {
            SetState(host, w, WorkerState.Stopped, $"replacement {Describe(exit)} before it was ready");
            return;
        }
        if (!w.DesiredRunning || policy == RestartMode.Never || (policy == RestartMode.OnFailure && clean))
        {
            SetState(host, w, WorkerState.Stopped, w.DesiredRunning ? $"restart = \"{PolicyName(policy)}\"" : "stopped");
            return;
        }

        var now = host.Time.GetUtcNow();
        var config = w.Config;
        if (w.ReadyAt is DateTimeOffset readyAt && now - readyAt >= config.RestartWindow)
        {
            w.ResetHistory(); // it served long enough: this death is news, not a loop
        }
        w.ConsecutiveFailures++;
        while (w.RecentRestarts.Count > 0 && now - w.RecentRestarts.Peek() > config.RestartWindow)
        {
            w.RecentRestarts.Dequeue();
        }
        if (w.RecentRestarts.Count >= config.MaxRestarts)
        {
            Fail(host, w, $"crash loop: {w.RecentRestarts.Count + 1} exits within restart_window ({config.RestartWindow.TotalSeconds:0.###}s), more than max_restarts = {config.MaxRestarts}; the last was {Describe(exit)}. Fix the worker, then start the group again");
            return;
        }
        w.RecentRestarts.Enqueue(now);
        w.Restarts++;
        // The first death of a worker that was serving is news, not a loop: replace it at once (as Node's cluster does,
        // and systemd with a small RestartSec). Backoff starts with the next death inside restart_window.
        var atOnce = w.ConsecutiveFailures == 1 && w.ReadyAt is not null;
        w.RespawnedAtOnce |= atOnce;
        var delay = atOnce ? TimeSpan.Zero : BackoffDelay(config.Backoff, w.ConsecutiveFailures - (w.RespawnedAtOnce ? 1 : 0));
        SetState(host, w, WorkerState.Backoff, Describe(exit));
        host.Record(w, LifecycleEventKinds.Backoff, delay: delay);
        w.StateTimer = host.ArmTimer(w, WorkerInput.StateTimer, delay);
    }

    /// <summary>initial × factor^(n-1), capped at max; n counts the deaths that backed off since the worker last stayed ready for restart_window.</summary>
    public static TimeSpan BackoffDelay(BackoffConfig backoff, int consecutiveFailures)
    {
        var ticks = backoff.Initial.Ticks * Math.Pow(backoff.Factor, Math.Max(0, consecutiveFailures - 1));
        return ticks >= backoff.Max.Ticks ? backoff.Max : TimeSpan.FromTicks((long)ticks);
    }

    private static ExitInfo Classify(Worker w, int waitStatus)
    {
        var (code, signal) = Platform.WaitStatus.Decode(waitStatus);
        if (w.ExecError is not null)
        {
            return new ExitInfo(ExitReasons.ExecFailed, code, signal, w.ExecError, w.ExecErrorTransient);
        }
        // The kernel's OOM killer is the cause whatever else was under way; it needs the worker's own cgroup to be seen.
        if (w.Process is { OomKilled: true })
        {
            return new ExitInfo(ExitReasons.Oom, code, signal, "the kernel's OOM killer ended a process of the worker");
        }
        // A watchdog, ready timeout or health replacement is the cause even when the stop then needed SIGKILL.
        if (w.StopReason is ExitReasons.Watchdog or ExitReasons.ReadyTimeout or ExitReasons.MemoryLimit or ExitReasons.Unhealthy or ExitReasons.MaxLifetime)
        {
            return new ExitInfo(w.StopReason, code, signal, w.Killed ? "killed after stop_timeout" : null);
        }
        if (w.Killed)
        {
            return new ExitInfo(ExitReasons.Killed, code, signal, null);
        }
        if (w.StopReason is not null)
        {
            return new ExitInfo(w.StopReason, code, signal, null);
        }
        return new ExitInfo(signal is null ? ExitReasons.Exited : ExitReasons.Crashed, code, signal, null);
    }

    public static string Describe(ExitInfo exit) => exit switch
    {
        { Signal: int s } => $"{exit.Reason} by signal {s}{(s == 9 && exit.Reason == ExitReasons.Crashed ? " (out of memory?)" : "")}",
        { Code: int c } => $"{exit.Reason} with code {c}",
        _ => exit.Reason,
    };

    private static void Fail(IWorkerHost host, Worker w, string why)
    {
        SetState(host, w, WorkerState.Failed, why);
        host.Record(w, LifecycleEventKinds.Failed, why);
    }

    private static string PolicyName(RestartMode mode) => mode switch
    {
        RestartMode.Always => "always",
        RestartMode.OnFailure => "on-failure",
        _ => "never",
    };

    /// <summary>The choke point: drops the previous state's timers, then tells the host (which logs and counts).</summary>
    private static void SetState(IWorkerHost host, Worker w, WorkerState next, string why)
    {
        w.StateTimer?.Dispose();
        w.StateTimer = null;
        if (next is not (WorkerState.Ready or WorkerState.Draining))
        {
            w.WatchdogTimer?.Dispose();
            w.WatchdogTimer = null;
        }
        var old = w.State;
        w.State = next;
        host.StateChanged(w, old, next, why);
    }
}

/// <param name="Transient">An exec failure whose cause can pass (EAGAIN, EMFILE, ENOMEM...): retried with backoff.</param>
internal sealed record ExitInfo(string Reason, int? Code, int? Signal, string? Detail, bool Transient = false);
