using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Clusterd.Config;
using Clusterd.Platform;
using Clusterd.Protocol;
using Clusterd.Supervision.Health;
using Microsoft.Extensions.Logging;

namespace Clusterd.Supervision;

/// <summary>
/// Worker health at runtime (docs/config.md, "Worker health"): max_memory, max_lifetime and the active health check
/// find a worker that must go and ask for a recycle. A recycle is a <see cref="Rollout"/> of that one slot with max_surge 1 and max_unavailable 0:
/// the replacement starts on the slot's own sockets, takes them once ready, and only then is the old worker steered
/// away, drained and stopped, exiting with the recycle's reason. One recycle per group runs at a time; the others
/// queue, and so do all of a group's while a `clusterctl restart` or reload rolls it (and those are refused as busy
/// while a recycle runs). A queued recycle whose worker has gone meanwhile is dropped.
/// </summary>
internal sealed partial class Supervisor
{
    public static readonly TimeSpan MemorySampleInterval = TimeSpan.FromSeconds(1);

    /// <summary>max_lifetime is stretched by up to this fraction, per worker, so workers started together do not all go together.</summary>
    public const double MaxLifetimeJitter = 0.1;

    /// <summary>The health socket's name in LISTEN_FDNAMES, after the group's listeners.</summary>
    public const string HealthSocketName = "clusterd-health";

    /// <summary>
    /// The health socket's accept queue. Small on purpose: a worker that stops accepting fills it after a probe or
    /// two, and a tcp check's connect then times out instead of the kernel answering for the worker.
    /// </summary>
    private const int HealthSocketBacklog = 1;

    private readonly Dictionary<GroupRuntime, Rollout> _recycles = [];
    private readonly List<(Worker Worker, string Reason)> _recycleQueue = [];
    private ITimer? _memorySampler;
    private int _sampling;

    /// <summary>A rollout or a recycle runs: commands that change a group's workers must wait.</summary>
    private bool Rolling => _rollouts.Length > 0 || _recycles.Count > 0;

    /// <summary>Raised on the loop after each health check: the group, whether it passed, how long it took (metrics).</summary>
    public event Action<string, bool, TimeSpan>? HealthChecked;

    private void StartHealth() => ArmMemorySampler();

    /// <summary>
    /// The sampler runs only while some group sets max_memory (at start, and again after each reload): without one,
    /// an idle clusterd has no reason to wake up.
    /// </summary>
    private void ArmMemorySampler()
    {
        var wanted = Config?.Groups.Any(g => g.Health.MaxMemory is not null) == true;
        if (wanted && _memorySampler is null)
        {
            _memorySampler = Time.CreateTimer(_ => SampleMemory(), null, MemorySampleInterval, MemorySampleInterval);
        }
        else if (!wanted && _memorySampler is not null)
        {
            _memorySampler.Dispose();
            _memorySampler = null;
        }
    }

    /// <summary>
    /// Off the loop (a timer thread), so reading a thousand cgroups or /proc files never delays an event: reads the
    /// memory of each ready worker of groups with max_memory, as the last snapshot lists them, and posts the readings.
    /// </summary>
    private void SampleMemory()
    {
        if (Interlocked.Exchange(ref _sampling, 1) == 1)
        {
            return; // the previous round is still reading
        }
        try
        {
            var limited = Config?.Groups.Where(g => g.Health.MaxMemory is not null).Select(g => g.Name).ToHashSet(StringComparer.Ordinal);
            if (limited is not { Count: > 0 })
            {
                return;
            }
            var readings = new List<(int Pid, long Bytes)>();
            foreach (var w in Snapshot.Groups.Where(g => limited.Contains(g.Name)).SelectMany(g => g.Workers))
            {
                if (w.State == PublicWorkerState.Ready && ProcessStats.TryReadWorker(w.Pid, w.Cgroup, out var stat))
                {
                    readings.Add((w.Pid, stat.ResidentBytes));
                }
            }
            if (readings.Count > 0)
            {
                Post(new CallbackEvent(() => OnMemorySamples(readings)));
            }
        }
        finally
        {
            Volatile.Write(ref _sampling, 0);
        }
    }

    /// <summary>On the loop: each reading counts for the process it was taken of, if that is still the ready worker it was.</summary>
    private void OnMemorySamples(List<(int Pid, long Bytes)> readings)
    {
        foreach (var (pid, bytes) in readings)
        {
            if (_byPid.TryGetValue(pid, out var w) && w.State == WorkerState.Ready && w.Config.Health.MaxMemory is long limit
                && HealthOf(w).Memory.Observe(bytes, limit))
            {
                LogOverMemory(w.Group.Name, w.Slot, pid, bytes >> 20, limit >> 20, MemoryHysteresis.Samples);
                RequestRecycle(w, ExitReasons.MemoryLimit);
            }
        }
    }

    /// <summary>The health record of the worker's current process (each spawn starts a new one).</summary>
    private static WorkerHealth HealthOf(Worker w)
    {
        if (w.Health is not { } health || health.Incarnation != w.Incarnation)
        {
            w.Health?.Dispose();
            w.Health = health = new WorkerHealth(w.Incarnation);
        }
        return health;
    }

    /// <summary>
    /// For a spawn (on the loop): a new health record and, for a group with an http or tcp check, the process's own
    /// health socket appended to its listeners and to LISTEN_FDNAMES. Throws <see cref="SocketException"/> if it cannot be bound.
    /// </summary>
    private static (IReadOnlyList<Socket> Listeners, string FdNames) WithHealthSocket(Worker w, IReadOnlyList<Socket> listeners, string fdNames)
    {
        var health = HealthOf(w);
        if (w.Config.Health.Check is not { Kind: not HealthCheckKind.Command })
        {
            return (listeners, fdNames);
        }
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            socket.Listen(HealthSocketBacklog);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        health.Socket = socket;
        return ([.. listeners, socket], fdNames.Length == 0 ? HealthSocketName : $"{fdNames}:{HealthSocketName}");
    }

    /// <summary>
    /// Off the loop: one check now and one every interval until the process is gone, never two at once; each result
    /// goes to the loop.
    /// </summary>
    /// <param name="firstDelay">Until the first check: none after a spawn; what was left of the interval after an upgrade.</param>
    private async Task ProbeAsync(Worker w, WorkerHealth health, HealthCheckConfig check, Func<CancellationToken, Task<string?>> runCheck,
        TimeSpan firstDelay)
    {
        var gone = health.Checks;
        try
        {
            if (firstDelay > TimeSpan.Zero)
            {
                await Task.Delay(firstDelay, Time, gone);
            }
            do
            {
                var started = Time.GetTimestamp();
                health.NextCheckDue = started; // due now, running: an upgrade meanwhile abandons it and checks at once
                var failure = await runCheck(gone);
                var latency = Time.GetElapsedTime(started);
                Post(new CallbackEvent(() => OnChecked(w, health, failure, latency)));
                health.NextCheckDue = Time.GetTimestamp() + (long)(check.Interval.TotalSeconds * Time.TimestampFrequency);
                await Task.Delay(check.Interval, Time, gone);
            }
            while (!gone.IsCancellationRequested);
        }
        catch (OperationCanceledException)
        {
            // The process is gone: so are its checks.
        }
    }

    /// <summary>On the loop: counts a check of the process it was made for, if that is still the slot's.</summary>
    private void OnChecked(Worker w, WorkerHealth health, string? failure, TimeSpan latency)
    {
        if (w.Health != health || w.Config.Health.Check is not { } check)
        {
            return;
        }
        var passed = failure is null;
        health.LastCheck = (passed, latency, failure);
        HealthChecked?.Invoke(w.Group.Name, passed, latency);
        if (passed)
        {
            health.ConsecutiveFailures = 0;
            WorkerStateMachine.Handle(this, w, WorkerInput.HealthPassed); // ready = "health": the first pass makes it ready
            return;
        }
        if (w.State != WorkerState.Ready || Time.GetUtcNow() - w.SpawnedAt < check.StartPeriod)
        {
            return; // not serving yet (ready_timeout watches that), or still within start_period
        }
        if (++health.ConsecutiveFailures >= check.Failures)
        {
            health.ConsecutiveFailures = 0; // if the replacement fails, another run of failures tries again
            LogUnhealthy(w.Group.Name, w.Slot, w.Pid, check.Failures, failure!);
            RequestRecycle(w, ExitReasons.Unhealthy);
        }
    }

    /// <summary>Called for every state change (on the loop): arms what watches a ready worker, drops it once the process is gone.</summary>
    private void WatchHealth(Worker w, WorkerState to)
    {
        if (!WorkerStateMachine.HasProcess(to))
        {
            w.Health?.Dispose();
            w.Health = null;
            return;
        }
        if (to == WorkerState.Starting && w.Config.Health.Check is { } check && w.Health is { ChecksStarted: false } probed
            && CheckOf(w, check, probed) is { } runCheck)
        {
            probed.ChecksStarted = true;
            _ = ProbeAsync(w, probed, check, runCheck, TimeSpan.Zero);
        }
        if (to == WorkerState.Ready && w.Config.Health.MaxLifetime > TimeSpan.Zero && w.SpawnedAt is { } spawnedAt)
        {
            var lifetime = w.Config.Health.MaxLifetime * (1 + (Random.Shared.NextDouble() * MaxLifetimeJitter));
            ArmLifetime(w, HealthOf(w), lifetime, spawnedAt + lifetime - Time.GetUtcNow());
        }
    }

    /// <summary>Arms <paramref name="w"/>'s max_lifetime timer: <paramref name="lifetime"/> (with its jitter) is up in <paramref name="due"/>.</summary>
    private void ArmLifetime(Worker w, WorkerHealth health, TimeSpan lifetime, TimeSpan due)
    {
        due = due > TimeSpan.Zero ? due : TimeSpan.Zero;
        var pid = w.Pid;
        health.LifetimeTimer?.Dispose();
        health.LifetimeTimer = Time.CreateTimer(_ => Post(new CallbackEvent(() => OnLifetimeUp(w, pid, lifetime))), null,
            due, Timeout.InfiniteTimeSpan);
        health.LifetimeDue = (Time.GetTimestamp() + (long)(due.TotalSeconds * Time.TimestampFrequency), lifetime);
    }

    /// <summary>One run of <paramref name="w"/>'s check (on the loop: the command's spec is taken here); null without a health socket.</summary>
    private Func<CancellationToken, Task<string?>>? CheckOf(Worker w, HealthCheckConfig check, WorkerHealth health)
    {
        if (check.Kind != HealthCheckKind.Command)
        {
            return health.Socket?.LocalEndPoint is IPEndPoint endpoint ? gone => HealthProbe.RunAsync(check, endpoint, Time, gone) : null;
        }
        var config = w.Config;
        var contract = IdentityContract(w);
        contract[ReservedEnvironment.WorkerPid] = w.Pid.ToString(CultureInfo.InvariantCulture);
        var spec = new LaunchSpec(w, w.Incarnation, check.Command!, config.Env, contract, config.Cwd, config.User, config.Group, Listeners: []);
        return gone => _launcher.RunCheckAsync(spec, check.Timeout, gone);
    }

    private void OnLifetimeUp(Worker w, int pid, TimeSpan lifetime)
    {
        if (w.Pid == pid && w.State == WorkerState.Ready)
        {
            LogLifetimeUp(w.Group.Name, w.Slot, pid, lifetime.TotalSeconds);
            RequestRecycle(w, ExitReasons.MaxLifetime);
        }
    }

    /// <summary>Queues a readiness-gated replacement of <paramref name="w"/>'s slot; <see cref="StepRecycles"/> starts it when it may.</summary>
    private void RequestRecycle(Worker w, string reason)
    {
        if (!_recycleQueue.Exists(q => q.Worker == w))
        {
            _recycleQueue.Add((w, reason));
        }
    }

    /// <summary>After every event (Reconcile): advances the running recycles, ends finished ones, starts queued ones that may.</summary>
    private void StepRecycles()
    {
        if (_shuttingDown)
        {
            _recycles.Clear(); // every worker, replacements included, is being stopped
            _recycleQueue.Clear();
            return;
        }
        foreach (var (group, recycle) in _recycles.ToArray())
        {
            recycle.Step(this);
            if (recycle.Result is { } result)
            {
                _recycles.Remove(group);
                if (!result.Ok)
                {
                    LogRecycleFailed(group.Name, result.Message);
                }
            }
        }
        for (var i = 0; i < _recycleQueue.Count;)
        {
            var (w, reason) = _recycleQueue[i];
            var group = w.Group;
            if (!IsServing(w))
            {
                _recycleQueue.RemoveAt(i); // gone, replaced or stopped meanwhile: nothing left to recycle
                continue;
            }
            if (_recycles.ContainsKey(group) || _rollouts.Any(r => r.Group == group))
            {
                i++; // one at a time per group, never during a rolling restart of it
                continue;
            }
            _recycleQueue.RemoveAt(i);
            LogRecycling(group.Name, w.Slot, w.Pid, reason);
            var recycle = new Rollout(group, maxSurge: 1, maxUnavailable: 0, revert: null, slots: [w.Slot], reason: reason);
            _recycles[group] = recycle;
            recycle.Begin(this);
        }
    }

    /// <summary>Whether <paramref name="w"/> is still its slot's ready worker, in a group that runs.</summary>
    private bool IsServing(Worker w) =>
        w.State == WorkerState.Ready && !w.Group.AdminStopped && _groups.TryGetValue(w.Group.Name, out var group) && group == w.Group
        && w.Slot < group.Workers.Count && group.Workers[w.Slot] == w;

    [LoggerMessage(EventId = 50, Level = LogLevel.Warning,
        Message = "{Group}/{Slot} (pid {Pid}) uses {UsedMiB} MiB, above max_memory ({LimitMiB} MiB) for {Samples} samples in a row: replacing it")]
    private partial void LogOverMemory(string group, int slot, int pid, long usedMiB, long limitMiB, int samples);

    [LoggerMessage(EventId = 51, Level = LogLevel.Information,
        Message = "{Group}/{Slot} (pid {Pid}) reached max_lifetime ({LifetimeSeconds:0.#}s with its jitter): replacing it")]
    private partial void LogLifetimeUp(string group, int slot, int pid, double lifetimeSeconds);

    [LoggerMessage(EventId = 52, Level = LogLevel.Information,
        Message = "{Group}/{Slot} (pid {Pid}): starting a replacement ({Reason}); the worker serves until the replacement is ready")]
    private partial void LogRecycling(string group, int slot, int pid, string reason);

    [LoggerMessage(EventId = 54, Level = LogLevel.Warning,
        Message = "{Group}/{Slot} (pid {Pid}) is unhealthy: {Failures} health checks in a row failed, the last with: {Why}; replacing it")]
    private partial void LogUnhealthy(string group, int slot, int pid, int failures, string why);

    [LoggerMessage(EventId = 53, Level = LogLevel.Error,
        Message = "{Group}: replacing a worker failed, it keeps serving: {Why}")]
    private partial void LogRecycleFailed(string group, string why);
}
