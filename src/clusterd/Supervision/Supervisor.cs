using System.Globalization;
using System.Threading.Channels;
using Clusterd.Config;
using Clusterd.Platform;
using Clusterd.Protocol;
using Clusterd.Sockets;
using Microsoft.Extensions.Logging;

namespace Clusterd.Supervision;

/// <summary>
/// The one loop that owns all supervision state (gunicorn's arbiter, tableflip's run()). Process exits, exec
/// outcomes, timers and sd_notify messages are posted to <see cref="_events"/> from wherever they happen;
/// only <see cref="RunAsync"/> reads them and changes anything.
/// </summary>
internal sealed partial class Supervisor : IWorkerHost, IAsyncDisposable
{
    // Environment that describes clusterd's own service-manager contract, not the workers'.
    private static readonly string[] s_inheritedButNotForWorkers =
    [
        "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
        "SYSTEMD_EXEC_PID", "JOURNAL_STREAM", "INVOCATION_ID", "MANAGERPID",
    ];

    private readonly Channel<SupervisorEvent> _events = Channel.CreateUnbounded<SupervisorEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<string, GroupRuntime> _groups = new(StringComparer.Ordinal);
    private readonly Dictionary<int, Worker> _byPid = [];
    private readonly ILogger _logger;
    private readonly OutputCapture _output;
    private readonly ProcessWorkerLauncher _launcher;
    private readonly ILoggerFactory _loggers;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<GroupRuntime> _removing = [];
    private readonly List<(Func<OperationResult?> Check, TaskCompletionSource<OperationResult> Done)> _waiters = [];
    private ClusterConfig? _config;
    private Rollout[] _rollouts = [];
    private bool _shuttingDown;
    private ClusterSnapshot _snapshot = ClusterSnapshot.Empty;

    private readonly ISocketSource? _sockets;

    /// <summary>clusterd's own environment less the service manager's variables, read once: what every worker starts from.</summary>
    private readonly Dictionary<string, string?> _inheritedEnvironment = InheritedEnvironment();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _running = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Supervisor(ILoggerFactory loggers, TimeProvider time, ISocketSource? sockets = null)
    {
        _sockets = sockets;
        _logger = loggers.CreateLogger("clusterd.supervisor");
        Time = time;
        Logs = new WorkerLogBook(time);
        _output = new OutputCapture(loggers.CreateLogger("clusterd.worker"), Logs);
        _launcher = new ProcessWorkerLauncher(Post, _output);
        _loggers = loggers;
    }

    public TimeProvider Time { get; }

    public LifecycleJournal Journal { get; } = new();

    /// <summary>Recent worker output, per group.</summary>
    public WorkerLogBook Logs { get; }

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>The configuration in force (the last one loaded or reloaded).</summary>
    public ClusterConfig? Config => Volatile.Read(ref _config);

    /// <summary>
    /// Completes once every group has all its workers ready, or has a slot that gave up (a failed slot must not hold
    /// the whole service in "activating" forever): the moment to tell a service manager READY=1.
    /// </summary>
    public Task Started => _started.Task;

    /// <summary>Completes once the groups exist and the first snapshot is out (or the start failed): commands make sense from then on.</summary>
    public Task Running => _running.Task;

    /// <summary>Raised on the loop after each new snapshot is published.</summary>
    public event Action<ClusterSnapshot>? Published;

    /// <summary>Completes once every worker is down after <see cref="RequestStop"/>.</summary>
    public Task Stopped => _stopped.Task;

    /// <summary>The state as of the last event the loop handled; safe to read from any thread.</summary>
    public ClusterSnapshot Snapshot => Volatile.Read(ref _snapshot);

    public void Post(SupervisorEvent e) => _events.Writer.TryWrite(e);

    public void RequestStop() => Post(new ShutdownEvent());

    /// <summary>Binds every group's sockets (all or nothing), starts every worker, then runs the loop until stopped.</summary>
    public async Task RunAsync(ClusterConfig config, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _config, config);
        foreach (var group in config.Groups)
        {
            GroupRuntime runtime;
            try
            {
                runtime = NewGroup(group);
            }
            catch
            {
                foreach (var g in _groups.Values)
                {
                    g.Dispose();
                }
                _groups.Clear();
                _stopped.TrySetResult(); // nothing was started, so there is nothing to stop
                _started.TrySetResult(); // and nothing will become ready: do not hold the host start
                _running.TrySetResult();
                throw;
            }
            _groups.Add(group.Name, runtime);
        }
        foreach (var name in _sockets?.CloseUnclaimed() ?? [])
        {
            LogUnclaimedSocket(name);
        }
        var workerCount = _groups.Values.Sum(g => g.Workers.Count);
        LogStarting(config.Path, _groups.Count, workerCount);
        if (config.Groups.Any(g => g.Sharing == SharingMode.ReusePort && g.Listen.Any(a => !a.IsUnix)))
        {
            // Said once, so an operator knows what a rolling restart will do with workers that do not drain.
            var unavailable = OperatingSystem.IsLinux() ? ReuseportSteering.Unavailable : "Linux only";
            if (unavailable is null)
            {
                LogSteeringAvailable();
            }
            else
            {
                LogSteeringUnavailable(unavailable);
            }
        }
        foreach (var worker in _groups.Values.SelectMany(g => g.Workers))
        {
            WorkerStateMachine.Handle(this, worker, WorkerInput.Start);
        }
        CheckStopped();
        Publish();
        _running.TrySetResult();

        await foreach (var e in _events.Reader.ReadAllAsync(cancellationToken))
        {
            Dispatch(e);
            Reconcile();
            if (!_events.Reader.TryPeek(out _))
            {
                Publish(); // once per burst, not per event: a storm of 1000 exits builds one snapshot
            }
            if (_stopped.Task.IsCompleted)
            {
                break;
            }
        }
    }

    private void Dispatch(SupervisorEvent e)
    {
        switch (e)
        {
            case WorkerEvent { Timer.Disposed: true }:
                break; // fired before it was cancelled; the state it was for is gone
            case WorkerEvent we when we.Incarnation != we.Worker.Incarnation:
                break; // from a process this slot has already buried
            case WorkerEvent we:
                if (we.Input == WorkerInput.Exited)
                {
                    _byPid.Remove(we.Worker.Pid);
                }
                if (!WorkerStateMachine.Handle(this, we.Worker, we.Input, we.Arg, we.Text))
                {
                    LogIgnoredInput(we.Worker.Group.Name, we.Worker.Slot, we.Input, we.Worker.State);
                }
                we.Worker.CloseOwnSocketsIfGone(); // a retired worker is gone, or a replacement that never got ready
                if (we.Input == WorkerInput.Spawned)
                {
                    _byPid[we.Worker.Pid] = we.Worker;
                    we.Worker.Group.Notify?.Inbox.RetryHeld(); // messages that overtook this news may be its own
                }
                CheckStopped();
                break;
            case NotifyEvent ne:
                OnNotify(ne.Socket);
                break;
            case CallbackEvent callback:
                callback.Run();
                break;
            case OperationEvent op:
                if (_shuttingDown)
                {
                    op.Done.TrySetResult(OperationResult.Error(ErrorCodes.ShuttingDown, "clusterd is shutting down"));
                }
                else
                {
                    op.Run(this);
                }
                break;
            case ShutdownEvent:
                if (!_shuttingDown)
                {
                    _shuttingDown = true;
                    LogStopping(_byPid.Count);
                    foreach (var worker in AllGroups.SelectMany(g => g.AllWorkers).ToArray())
                    {
                        WorkerStateMachine.Handle(this, worker, WorkerInput.Stop);
                    }
                    foreach (var (_, done) in _waiters)
                    {
                        done.TrySetResult(OperationResult.Error(ErrorCodes.ShuttingDown, "clusterd is shutting down"));
                    }
                    _waiters.Clear();
                }
                CheckStopped();
                break;
        }
    }

    private void Publish()
    {
        var groups = _groups.Values.Select(g => new GroupSnapshot(
            g.Name,
            g.Desired,
            g.AdminStopped,
            g.Workers.Count(w => w.State == WorkerState.Ready),
            g.Generation,
            g.Config.Listen.Select(l => l.Text).ToArray(),
            g.AllWorkers.OrderBy(w => w.Slot).Select(w => new WorkerSnapshot(
                w.Slot,
                w.Pid,
                WorkerStateMachine.PublicState(w.State),
                w.Generation,
                w.Restarts,
                WorkerStateMachine.HasProcess(w.State) ? w.SpawnedAt : null,
                w.State == WorkerState.Ready ? w.ReadyAt : null,
                w.LastExit?.Reason,
                w.LastExit?.Code,
                w.LastExit?.Signal,
                w.Status,
                Interlocked.Read(ref w.DroppedOutputLines))).ToArray())).ToArray();
        var snapshot = new ClusterSnapshot(Time.GetUtcNow(), groups);
        Volatile.Write(ref _snapshot, snapshot);
        if (!_started.Task.IsCompleted && snapshot.Groups.All(g => g.Stopped || g.Ready >= g.Desired || g.Workers.Any(w => w.State == PublicWorkerState.Failed)))
        {
            _started.TrySetResult();
        }
        Published?.Invoke(snapshot);
        PublishListenerSockets(); // metrics: see Supervisor.Listeners.cs
    }

    private IEnumerable<GroupRuntime> AllGroups => _groups.Values.Concat(_removing);

    private void CheckStopped()
    {
        if (_shuttingDown && AllGroups.SelectMany(g => g.AllWorkers).All(w => !WorkerStateMachine.HasProcess(w.State)))
        {
            _stopped.TrySetResult();
        }
    }

    void IWorkerHost.Spawn(Worker worker)
    {
        var group = worker.Group;
        var config = worker.Config;
        var listeners = worker.OwnSockets ?? group.Listeners.ForSlot(worker.Slot);

        var env = new Dictionary<string, string?>(_inheritedEnvironment, StringComparer.Ordinal);
        foreach (var (key, value) in config.Env)
        {
            env[key] = value;
        }
        if (listeners.Count > 0)
        {
            env["LISTEN_FDS"] = listeners.Count.ToString(CultureInfo.InvariantCulture);
            env["LISTEN_FDNAMES"] = group.Listeners.FdNames;
        }
        if (group.Notify is not null)
        {
            env["NOTIFY_SOCKET"] = group.Notify.Path;
        }
        if (config.WatchdogTimeout > TimeSpan.Zero)
        {
            env["WATCHDOG_USEC"] = ((long)config.WatchdogTimeout.TotalMicroseconds).ToString(CultureInfo.InvariantCulture);
        }
        env["CLUSTERD_GROUP"] = config.Name;
        env["CLUSTERD_WORKER"] = worker.Slot.ToString(CultureInfo.InvariantCulture);
        env["CLUSTERD_GENERATION"] = worker.Generation.ToString(CultureInfo.InvariantCulture);

        (uint Uid, uint Gid)? user = null;
        uint? gid = null;
        if (UserDatabase.IsRoot && config.User is not null)
        {
            user = UserDatabase.LookupUser(config.User);
            if (user is null)
            {
                Post(new WorkerEvent(worker, worker.Incarnation, WorkerInput.SpawnFailed, Text: $"no such user '{config.User}'"));
                return;
            }
            gid = user.Value.Gid;
        }
        if (UserDatabase.IsRoot && config.Group is not null)
        {
            gid = UserDatabase.LookupGroup(config.Group);
            if (gid is null)
            {
                Post(new WorkerEvent(worker, worker.Incarnation, WorkerInput.SpawnFailed, Text: $"no such group '{config.Group}'"));
                return;
            }
        }

        _launcher.Launch(new LaunchSpec(worker, worker.Incarnation, config.Command, env, config.Cwd,
            user?.Uid, gid, config.User, listeners));
    }

    private static Dictionary<string, string?> InheritedEnvironment()
    {
        var env = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            env[(string)entry.Key] = (string?)entry.Value;
        }
        foreach (var key in s_inheritedButNotForWorkers)
        {
            env.Remove(key);
        }
        return env;
    }

    void IWorkerHost.Signal(Worker worker, int signal)
    {
        if (worker.Pid > 0 && !Signals.SignalGroup(worker.Pid, signal))
        {
            LogSignalFailed(worker.Group.Name, worker.Slot, worker.Pid, signal);
        }
    }

    IDisposable IWorkerHost.ArmTimer(Worker worker, WorkerInput input, TimeSpan delay)
    {
        var timer = new WorkerTimer();
        var incarnation = worker.Incarnation;
        timer.Start(Time, delay, t => Post(new WorkerEvent(worker, incarnation, input, Timer: t)));
        return timer;
    }

    void IWorkerHost.Record(Worker worker, string kind, string? reason, int? exitCode, int? signal, TimeSpan? delay)
    {
        var e = Journal.Append(seq => new LifecycleEvent(seq, Time.GetUtcNow(), kind, worker.Group.Name, worker.Slot,
            worker.Pid, worker.Generation, reason, exitCode, signal, delay?.TotalSeconds));
        var level = kind switch
        {
            LifecycleEventKinds.Failed => LogLevel.Error,
            LifecycleEventKinds.Exit when reason is ExitReasons.Killed or ExitReasons.Watchdog or ExitReasons.ExecFailed => LogLevel.Error,
            LifecycleEventKinds.Exit when reason is ExitReasons.Crashed or ExitReasons.ReadyTimeout || (reason == ExitReasons.Exited && exitCode != 0) => LogLevel.Warning,
            _ => LogLevel.Information,
        };
        LogLifecycle(level, e);
    }

    void IWorkerHost.StateChanged(Worker worker, WorkerState from, WorkerState to, string why) =>
        LogStateChanged(worker.Group.Name, worker.Slot, worker.Pid, from, to, why);

    public async ValueTask DisposeAsync()
    {
        foreach (var group in _groups.Values)
        {
            group.Dispose();
        }
        _launcher.Dispose();
        await _output.DisposeAsync();
    }
}
