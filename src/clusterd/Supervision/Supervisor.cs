using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Clusterd.Config;
using Clusterd.Logging;
using Clusterd.Platform;
using Clusterd.Protocol;
using Clusterd.Readiness;
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
    private readonly Channel<SupervisorEvent> _events = Channel.CreateUnbounded<SupervisorEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<string, GroupRuntime> _groups = new(StringComparer.Ordinal);
    private readonly Dictionary<int, Worker> _byPid = [];
    private readonly ILogger _logger;
    private readonly OutputCapture _output;
    private readonly IWorkerLauncher _launcher;
    private readonly Func<GroupConfig, Action<NotifySocket>, NotifySocket?> _openNotify;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<GroupRuntime> _removing = [];
    private readonly List<(Func<OperationResult?> Check, TaskCompletionSource<OperationResult> Done)> _waiters = [];

    /// <summary>Operations that have run and are not answered yet: see <see cref="AnswerOperations"/>.</summary>
    private readonly List<OperationEvent> _operations = [];
    private ClusterConfig? _config;
    private Rollout[] _rollouts = [];
    private bool _shuttingDown;
    private ClusterSnapshot _snapshot = ClusterSnapshot.Empty;

    /// <summary>When the last snapshot was published (<see cref="Stopwatch"/> ticks), and whether a wake-up to publish is on its way.</summary>
    private long _publishedAt;
    private bool _publishWakeUpPending;

    /// <summary>Whether the loop has taken an event since the last publish: <see cref="Snapshot"/> may not show it.</summary>
    private volatile bool _snapshotBehind;

    private readonly ISocketSource? _sockets;
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _running = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="launcher">How workers are started: the real <see cref="ProcessWorkerLauncher"/> unless a test fakes it.</param>
    /// <param name="notify">
    /// Opens a group's NOTIFY_SOCKET, given how to wake the loop for it (null: the group has none): a socket in
    /// RUNTIME/notify on Linux (Supervisor.Notify.cs) unless a test gives another.
    /// </param>
    public Supervisor(ILoggerFactory loggers, TimeProvider time, ISocketSource? sockets = null,
        Func<Action<SupervisorEvent>, OutputCapture, IWorkerLauncher>? launcher = null,
        Func<GroupConfig, Action<NotifySocket>, NotifySocket?>? notify = null,
        LogEnvironment? logEnvironment = null)
    {
        _sockets = sockets;
        _logger = loggers.CreateLogger("clusterd.supervisor");
        Time = time;
        StartedAt = time.GetUtcNow();
        Logs = new WorkerLogBook(time);
        _output = new OutputCapture(loggers.CreateLogger("clusterd.worker"), Logs, time, LogDrops,
            logEnvironment?.Journal, logEnvironment?.UnderJournald ?? false);
        _launcher = (launcher ?? ((post, output) =>
            new ProcessWorkerLauncher(post, output, loggers.CreateLogger("clusterd.launcher"), reapOrphans: true)))(Post, _output);
        _openNotify = notify ?? ((config, wake) =>
            OperatingSystem.IsLinux() ? OpenNotify(config, wake, loggers.CreateLogger("clusterd.notify")) : null);
    }

    public TimeProvider Time { get; }

    public LifecycleJournal Journal { get; } = new();

    /// <summary>Recent worker output, per group.</summary>
    public WorkerLogBook Logs { get; }

    /// <summary>Worker lines let go, by group and reason (clusterd_log_lines_dropped_total).</summary>
    public LogDrops LogDrops { get; } = new();

    /// <summary>Reopens every worker log file before its next line (SIGUSR1, <c>clusterctl logs --reopen</c>); how many there are.</summary>
    public int ReopenLogFiles() => _output.ReopenFiles();

    public DateTimeOffset StartedAt { get; private set; }

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

    /// <summary>
    /// The state as of the last event the loop handled, or at most <see cref="PublishInterval"/> before it while events
    /// keep coming; as of an operation once it is answered. Safe to read from any thread.
    /// </summary>
    public ClusterSnapshot Snapshot => Volatile.Read(ref _snapshot);

    /// <summary>
    /// <see cref="Snapshot"/>, showing every event the loop has taken: if it took one since it last published, it publishes
    /// first, as it does to answer an operation (a wait of at most one burst). For <c>status</c>: it never shows less than
    /// the journal held when it was asked, say a worker that <c>events --follow</c> saw get ready.
    /// </summary>
    public async Task<ClusterSnapshot> CurrentSnapshotAsync(CancellationToken cancellationToken)
    {
        if (_snapshotBehind)
        {
            var published = Submit((_, done) => done.TrySetResult(OperationResult.Success("published")));
            await Task.WhenAny(published, _stopped.Task).WaitAsync(cancellationToken); // a stopped loop publishes no more
        }
        return Snapshot;
    }

    /// <summary>
    /// The loop publishes a snapshot after each burst of events, but while bursts keep coming at most once in this long
    /// (real time: a cost of CPU, not a deadline of supervision), and at once to answer an operation. A start of 1000
    /// workers is ~3000 bursts: publishing after each took 3 % of all the CPU of the start on 2 cores, and its
    /// allocations set off most of clusterd's collections then (BENCHMARKS.md, the analysis).
    /// </summary>
    public TimeSpan PublishInterval { get; init; } = DefaultPublishInterval;

    public static readonly TimeSpan DefaultPublishInterval = TimeSpan.FromMilliseconds(10);

    public void Post(SupervisorEvent e) => _events.Writer.TryWrite(e);

    public void RequestStop() => Post(new ShutdownEvent());

    /// <summary>
    /// Binds every group's sockets (all or nothing), starts every worker, then runs the loop until stopped. With
    /// <paramref name="adopt"/>, takes over what a previous image of this process ran instead (docs/adr/0008).
    /// </summary>
    public async Task RunAsync(ClusterConfig config, CancellationToken cancellationToken, Upgrade.UpgradeAdoption? adopt = null)
    {
        Volatile.Write(ref _config, config);
        foreach (var group in adopt is null ? config.Groups : [])
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
        if (adopt is not null)
        {
            Adopt(config, adopt);
        }
        foreach (var name in _sockets?.CloseUnclaimed() ?? [])
        {
            LogUnclaimedSocket(name);
        }
        var workerCount = _groups.Values.Sum(g => g.Workers.Count);
        LogStarting(config.Path, _groups.Count, workerCount);
        LogContainment(_launcher.Containment);
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
        foreach (var worker in adopt is null ? _groups.Values.SelectMany(g => g.Workers) : [])
        {
            WorkerStateMachine.Handle(this, worker, WorkerInput.Start);
        }
        CheckStopped();
        Publish();
        StartHealth();
        _running.TrySetResult();

        await foreach (var e in _events.Reader.ReadAllAsync(cancellationToken))
        {
            try
            {
                _snapshotBehind = true; // before the event can reach the journal
                Dispatch(e);
                Reconcile();
                if (_operations.Any(o => o.Done.Task.IsCompleted))
                {
                    Publish(); // to answer: an answer goes out with a snapshot that shows what the operation did
                }
                else if (!_events.Reader.TryPeek(out _))
                {
                    PublishOrDefer(); // once per burst, not per event: a storm of 1000 exits builds one snapshot
                }
            }
            catch (Exception failure)
            {
                // Nothing one event does may end the loop: the loop's end would take every worker with it.
                LogEventFailed(failure, e.ToString());
                Recover(e, failure);
            }
            if (_stopped.Task.IsCompleted)
            {
                break;
            }
        }
    }

    /// <summary>After an event's handling threw: put what it was about into a state the loop can carry on from.</summary>
    private void Recover(SupervisorEvent e, Exception failure)
    {
        try
        {
            switch (e)
            {
                case OperationEvent op:
                    op.Done.TrySetResult(OperationResult.Error(ErrorCodes.Internal,
                        $"the operation failed: {failure.Message}; this probably indicates a bug in clusterd (its log has the details)"));
                    break;
                case WorkerEvent { Worker: { State: WorkerState.Spawning, Pid: 0 } worker }:
                    // It threw before any process existed: a spawn that failed, to be retried with backoff.
                    WorkerStateMachine.Handle(this, worker, WorkerInput.SpawnFailed, text: failure.Message, transient: true);
                    break;
            }
            CheckStopped();
            Publish();
        }
        catch (Exception again)
        {
            LogRecoveryFailed(again);
        }
    }

    private void Dispatch(SupervisorEvent e)
    {
        switch (e)
        {
            case WorkerEvent { Timer.Disposed: true }:
                break; // fired before it was cancelled; the state it was for is gone
            case WorkerEvent we:
                var current = we.Incarnation == we.Worker.Incarnation; // else from a process the slot has buried
                if (current && we.Input is WorkerInput.Exited or WorkerInput.MainExited)
                {
                    _byPid.Remove(we.Worker.Pid);
                    VacateIfDied(we.Worker); // see Supervisor.Steering.cs
                }
                if (!current || !WorkerStateMachine.Handle(this, we.Worker, we.Input, we.Arg, we.Text, we.Process, we.Transient))
                {
                    if (we is { Input: WorkerInput.Spawned, Process: { } unwanted })
                    {
                        // A spawn so slow that the slot gave up on it and moved on: nobody would watch this process.
                        LogKillingStaleSpawn(we.Worker.Group.Name, we.Worker.Slot, unwanted.Pid);
                        unwanted.Signal(Signals.SIGKILL);
                        break;
                    }
                    if (current)
                    {
                        LogIgnoredInput(we.Worker.Group.Name, we.Worker.Slot, we.Input, we.Worker.State);
                    }
                    break;
                }
                we.Worker.CloseOwnSocketsIfGone(); // a retired worker is gone, or a replacement that never got ready
                if (we.Input == WorkerInput.Spawned)
                {
                    _byPid[we.Worker.Pid] = we.Worker;
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
                    op.Answer.TrySetResult(OperationResult.Error(ErrorCodes.ShuttingDown, "clusterd is shutting down"));
                }
                else
                {
                    _operations.Add(op);
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

    /// <summary>Answers every operation that is done, now that a snapshot showing what it did is published.</summary>
    private void AnswerOperations()
    {
        for (var i = _operations.Count - 1; i >= 0; i--)
        {
            var op = _operations[i];
            if (op.Done.Task.IsCompleted)
            {
                _operations.RemoveAt(i);
                op.Answer.TrySetResult(op.Done.Task.Result);
            }
        }
    }

    /// <summary>Publishes now, unless the last snapshot is younger than <see cref="PublishInterval"/>: then once it is not.</summary>
    private void PublishOrDefer()
    {
        var wait = PublishInterval - Stopwatch.GetElapsedTime(_publishedAt);
        if (wait <= TimeSpan.Zero)
        {
            Publish();
        }
        else if (!_publishWakeUpPending)
        {
            _publishWakeUpPending = true;
            // An event that changes nothing: after it, with nothing else queued, the loop publishes.
            _ = Task.Delay(wait).ContinueWith(_ => Post(new CallbackEvent(() => _publishWakeUpPending = false)), TaskScheduler.Default);
        }
    }

    private void Publish()
    {
        _publishedAt = Stopwatch.GetTimestamp();
        _snapshotBehind = false;
        var groups = new GroupSnapshot[_groups.Count];
        var allStarted = true;
        var i = 0;
        foreach (var g in _groups.Values)
        {
            var (workers, ready, failed) = g.SnapshotWorkers();
            groups[i++] = new GroupSnapshot(
                g.Name,
                g.Desired,
                g.AdminStopped,
                ready,
                g.Generation,
                g.Config.Listen.Select(l => l.Text).ToArray(),
                workers,
                g.Config.RequiredReady(g.Desired),
                g.Desired == g.Config.Workers ? g.Config.WorkersSource : GroupSnapshot.WorkersFromScale);
            allStarted &= g.AdminStopped || ready >= g.Desired || failed > 0;
        }
        var snapshot = new ClusterSnapshot(Time.GetUtcNow(), groups);
        Volatile.Write(ref _snapshot, snapshot);
        Published?.Invoke(snapshot);
        PublishListenerSockets(); // metrics: see Supervisor.Listeners.cs
        AnswerOperations();
        // After Published: the service manager's STATUS= for this snapshot is sent before READY=1, which the start's
        // continuation sends on another thread.
        if (allStarted)
        {
            _started.TrySetResult();
        }
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
        IReadOnlyList<System.Net.Sockets.Socket> listeners;
        try
        {
            listeners = worker.OwnSockets ?? OpenForVacatedSlot(worker) ?? group.Listeners.ForSlot(worker.Slot);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException)
        {
            // A new slot's socket could not be bound (EMFILE, or the port taken by someone else): no process yet.
            Post(new WorkerEvent(worker, worker.Incarnation, WorkerInput.SpawnFailed, Text: e.Message, Transient: true));
            return;
        }

        var contract = IdentityContract(worker);
        string fdNames;
        try
        {
            (listeners, fdNames) = WithHealthSocket(worker, listeners, group.Listeners.FdNames);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            Post(new WorkerEvent(worker, worker.Incarnation, WorkerInput.SpawnFailed, Text: $"cannot bind the health socket: {e.Message}", Transient: true));
            return;
        }
        if (listeners.Count > 0)
        {
            contract[ReservedEnvironment.ListenFds] = listeners.Count.ToString(CultureInfo.InvariantCulture);
            contract[ReservedEnvironment.ListenFdNames] = fdNames;
        }
        if (group.Notify is not null)
        {
            contract[ReservedEnvironment.NotifySocket] = group.Notify.Path;
        }
        if (config.WatchdogTimeout > TimeSpan.Zero)
        {
            contract[ReservedEnvironment.WatchdogUsec] = ((long)config.WatchdogTimeout.TotalMicroseconds).ToString(CultureInfo.InvariantCulture);
        }
        try
        {
            _launcher.Launch(new LaunchSpec(worker, worker.Incarnation, config.Command, config.Env, contract, config.Cwd,
                config.User, config.Group, listeners, config.Health.MemoryMax));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Post(new WorkerEvent(worker, worker.Incarnation, WorkerInput.SpawnFailed, Text: e.Message, Transient: true));
        }
    }

    /// <summary>The variables that say which worker this is: for the worker, and for its command health check.</summary>
    private static Dictionary<string, string> IdentityContract(Worker worker) => new(StringComparer.Ordinal)
    {
        [ReservedEnvironment.Group] = worker.Config.Name,
        [ReservedEnvironment.Worker] = worker.Slot.ToString(CultureInfo.InvariantCulture),
        [ReservedEnvironment.Generation] = worker.Generation.ToString(CultureInfo.InvariantCulture),
    };

    bool IWorkerHost.SpawnerMovedWithin(TimeSpan within) => _launcher.SpawnerMovedWithin(within);

    void IWorkerHost.Signal(Worker worker, int signal)
    {
        if (worker.Process is { } process && !process.Signal(signal))
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
        if (kind is LifecycleEventKinds.Fork or LifecycleEventKinds.Exit)
        {
            CountChurn();
        }
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

    void IWorkerHost.StateChanged(Worker worker, WorkerState from, WorkerState to, string why)
    {
        LogStateChanged(worker.Group.Name, worker.Slot, worker.Pid, from, to, why);
        WatchHealth(worker, to);
        if (to == WorkerState.Ready)
        {
            RouteIfVacated(worker);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _memorySampler?.Dispose();
        foreach (var group in _groups.Values)
        {
            group.Dispose();
        }
        _launcher.Dispose();
        await _output.DisposeAsync();
    }
}
