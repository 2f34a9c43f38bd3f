using Clusterd.Config;
using Clusterd.Platform;
using Clusterd.Protocol;
using Clusterd.Sockets;

namespace Clusterd.Supervision;

/// <summary>
/// Operators' commands. Each public method may be called from any thread: it posts the work to the loop and returns
/// a task that the loop completes, at once or when the operation is over (a rollout). Commands change what is
/// desired and let the state machine do the rest, like gunicorn's control handlers.
/// At most one rollout runs at a time; commands that would disturb it answer "busy".
/// </summary>
internal sealed partial class Supervisor
{
    public Task<OperationResult> ScaleAsync(string name, int count) => Submit((s, done) =>
    {
        if (s.Mutable(name, done) is not { } group)
        {
            return;
        }
        if (count is < 0 or > GroupConfig.MaxWorkers)
        {
            done.TrySetResult(OperationResult.Error(ErrorCodes.BadRequest, $"worker count must be 0..{GroupConfig.MaxWorkers} (got {count})"));
            return;
        }
        var from = group.Desired;
        s.Scale(group, count);
        done.TrySetResult(OperationResult.Success($"{name}: scaled from {from} to {count} workers"));
    });

    public Task<OperationResult> StopGroupAsync(string name) => Submit((s, done) =>
    {
        if (s.Mutable(name, done) is not { } group)
        {
            return;
        }
        group.AdminStopped = true;
        foreach (var w in group.AllWorkers.ToArray())
        {
            WorkerStateMachine.Handle(s, w, WorkerInput.Stop);
        }
        s.WaitFor(() => group.AllWorkers.Any(w => WorkerStateMachine.HasProcess(w.State))
            ? null
            : OperationResult.Success($"{name}: stopped"), done);
    });

    public Task<OperationResult> StartGroupAsync(string name) => Submit((s, done) =>
    {
        if (s.Mutable(name, done) is not { } group)
        {
            return;
        }
        group.AdminStopped = false;
        foreach (var w in group.Workers)
        {
            WorkerStateMachine.Handle(s, w, WorkerInput.Start);
        }
        s.WaitFor(() =>
        {
            var failed = group.Workers.FirstOrDefault(w => w.State == WorkerState.Failed);
            if (failed is not null)
            {
                return OperationResult.Error(ErrorCodes.Failed, $"{name}/{failed.Slot} failed to start; see `clusterctl logs {name}/{failed.Slot}` and `clusterctl events`");
            }
            return group.Workers.All(w => w.State is WorkerState.Ready or WorkerState.Stopped)
                ? OperationResult.Success($"{name}: {group.Workers.Count} workers ready")
                : null;
        }, done);
    });

    public Task<OperationResult> SignalAsync(string name, int? slot, int signal, string signalName) => Submit((s, done) =>
    {
        if (!s._groups.TryGetValue(name, out var group))
        {
            done.TrySetResult(s.NoSuchGroup(name));
            return;
        }
        var targets = group.AllWorkers.Where(w => w.Pid > 0 && (slot is null || w.Slot == slot)).ToArray();
        if (targets.Length == 0)
        {
            done.TrySetResult(OperationResult.Error(ErrorCodes.NotFound, slot is null
                ? $"{name} has no running worker to signal"
                : $"{name}/{slot} has no running worker (slots are 0..{group.Workers.Count - 1})"));
            return;
        }
        foreach (var w in targets)
        {
            Signals.SignalGroup(w.Pid, signal);
        }
        done.TrySetResult(OperationResult.Success($"sent {signalName} to {string.Join(", ", targets.Select(w => $"{name}/{w.Slot} (pid {w.Pid})"))}"));
    });

    /// <summary>A rolling, readiness-gated restart of one group or of "all".</summary>
    public Task<OperationResult> RestartAsync(string name, int maxSurge, int maxUnavailable) => Submit((s, done) =>
    {
        if (maxSurge < 0 || maxUnavailable < 0 || maxSurge + maxUnavailable == 0)
        {
            done.TrySetResult(OperationResult.Error(ErrorCodes.BadRequest, "max_surge and max_unavailable must be >= 0 and not both 0"));
            return;
        }
        if (s.Rolling)
        {
            done.TrySetResult(s.Busy());
            return;
        }
        GroupRuntime[] groups;
        if (name == "all")
        {
            groups = [.. s._groups.Values];
        }
        else if (s._groups.TryGetValue(name, out var one))
        {
            groups = [one];
        }
        else
        {
            done.TrySetResult(s.NoSuchGroup(name));
            return;
        }
        var rollouts = groups.Select(g =>
        {
            g.Generation++;
            var previousGeneration = g.Generation - 1;
            return new Rollout(g, maxSurge, maxUnavailable, revert: r => r.Generation = previousGeneration);
        }).ToArray();
        s.RunRollouts(rollouts, done, onSuccess: null);
    });

    /// <summary>
    /// Applies <paramref name="next"/>: added groups start, removed groups stop, changed groups roll (or change in place
    /// when only timings or the worker count differ: <see cref="ConfigDiff"/> decides). Every check comes first (no
    /// rollout under way, no sharing change, every new socket bound: all or nothing), and <c>Accepted</c> answers it;
    /// a dry run runs the same checks, binds and releases the sockets, and changes nothing. <c>Applied</c> completes
    /// once every changed group has rolled (or a rollout failed and was rolled back).
    /// </summary>
    public (Task<OperationResult> Accepted, Task<OperationResult> Applied) ReloadAsync(ClusterConfig next, bool dryRun)
    {
        var accepted = new TaskCompletionSource<OperationResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var applied = Submit((s, done) => s.Reload(next, dryRun, accepted, done));
        // Whatever ends the operation early (a refusal, clusterd stopping, a bug) also answers the first question.
        _ = applied.ContinueWith(t => accepted.TrySetResult(t.Result), TaskScheduler.Default);
        return (accepted.Task, applied);
    }

    private void Reload(ClusterConfig next, bool dryRun, TaskCompletionSource<OperationResult> accepted, TaskCompletionSource<OperationResult> done)
    {
        var plan = ConfigDiff.Plan(_config!, next);
        void Refuse(OperationResult refusal)
        {
            accepted.TrySetResult(refusal);
            done.TrySetResult(refusal);
        }
        if (Rolling)
        {
            Refuse(Busy() with { Plan = plan });
            return;
        }
        var sharingChanged = plan.Changed.FirstOrDefault(c => c.Config.Sharing != _groups[c.Config.Name].Config.Sharing);
        if (sharingChanged is not null)
        {
            Refuse(OperationResult.Error(ErrorCodes.InvalidConfig,
                $"group '{sharingChanged.Config.Name}': 'sharing' cannot change while the group runs (its sockets cannot be handed over between modes); remove the group, reload, then add it back", plan));
            return;
        }

        // Bind first, all or nothing. A dry run binds too (so it finds a port someone else holds), without the service
        // manager's fd store, and lets go at once.
        var added = new List<GroupRuntime>();
        var rebound = new List<(GroupRuntime Group, GroupListeners Next)>();
        try
        {
            foreach (var config in plan.Added)
            {
                added.Add(NewGroup(config, dryRun));
            }
            foreach (var change in plan.Changed.Where(c => c.Rolls))
            {
                var group = _groups[change.Config.Name];
                rebound.Add((group, GroupListeners.Rebind(change.Config, group.Listeners, dryRun ? DryRunSockets.Instance : _sockets)));
            }
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or UnauthorizedAccessException)
        {
            Undo();
            Refuse(OperationResult.Error(ErrorCodes.Failed, $"nothing was changed: {e.Message}", plan));
            return;
        }
        if (dryRun)
        {
            Undo();
            Refuse(OperationResult.Success("dry run: nothing was changed", plan));
            return;
        }
        accepted.TrySetResult(OperationResult.Success("applying", plan));
        Apply(next, plan, added, rebound, done);

        void Undo()
        {
            foreach (var g in added)
            {
                g.Retire();
            }
            foreach (var (_, listeners) in rebound)
            {
                listeners.Revert();
            }
        }
    }

    private void Apply(ClusterConfig next, ConfigPlan plan, List<GroupRuntime> added, List<(GroupRuntime Group, GroupListeners Next)> rebound,
        TaskCompletionSource<OperationResult> done)
    {
        Volatile.Write(ref _config, next);
        ArmMemorySampler();
        foreach (var group in added)
        {
            _groups.Add(group.Name, group);
            foreach (var w in group.Workers)
            {
                WorkerStateMachine.Handle(this, w, WorkerInput.Start);
            }
        }
        foreach (var name in plan.Removed)
        {
            var group = _groups[name];
            _groups.Remove(name);
            _removing.Add(group);
            group.AdminStopped = true;
            foreach (var w in group.AllWorkers.ToArray())
            {
                WorkerStateMachine.Handle(this, w, WorkerInput.Stop);
            }
        }
        foreach (var change in plan.Changed.Where(c => !c.Rolls))
        {
            var group = _groups[change.Config.Name];
            group.Config = change.Config;
            foreach (var w in group.AllWorkers)
            {
                w.Config = change.Config; // only what the state machine reads as it goes: ConfigDiff rolls the rest
            }
            if (group.Desired != change.Config.Workers)
            {
                Scale(group, change.Config.Workers);
            }
        }
        var rollouts = new List<Rollout>();
        var retiredListeners = new List<GroupListeners>();
        foreach (var (group, listeners) in rebound)
        {
            var change = plan.Changed.First(c => c.Config.Name == group.Name);
            var (oldConfig, oldListeners, oldGeneration) = (group.Config, group.Listeners, group.Generation);
            if (group.Desired != change.Config.Workers)
            {
                Scale(group, change.Config.Workers);
            }
            group.Config = change.Config;
            group.Listeners = listeners;
            group.Generation++;
            GiveNotifySocket(group); // `user` may have changed: the replacements must be able to send READY=1
            retiredListeners.Add(oldListeners);
            rollouts.Add(new Rollout(group, maxSurge: 1, maxUnavailable: 0, revert: g =>
            {
                g.Config = oldConfig;
                g.Generation = oldGeneration;
                GiveNotifySocket(g);
                if (g.Listeners == listeners)
                {
                    listeners.Revert();
                    g.Listeners = oldListeners;
                    retiredListeners.Remove(oldListeners);
                }
            }));
        }
        _output.CloseUnusedFiles(); // every group has its new config: a changed [logs] file or target leaves the old file to no one
        RunRollouts([.. rollouts], done, onSuccess: () =>
        {
            foreach (var l in retiredListeners)
            {
                l.Retire(); // every old worker is gone: the addresses no longer listened on can close
            }
        }, plan);
    }

    private void RunRollouts(Rollout[] rollouts, TaskCompletionSource<OperationResult> done, Action? onSuccess, ConfigPlan? plan = null)
    {
        _rollouts = rollouts;
        foreach (var r in rollouts)
        {
            r.Begin(this);
        }
        WaitFor(() =>
        {
            if (rollouts.Any(r => r.Result is null))
            {
                return null;
            }
            _rollouts = [];
            var failures = rollouts.Where(r => !r.Result!.Ok).Select(r => r.Result!).ToArray();
            if (failures.Length > 0)
            {
                return OperationResult.Error(ErrorCodes.Failed, string.Join("\n", failures.Select(f => f.Message)), plan);
            }
            onSuccess?.Invoke();
            var message = rollouts.Length == 0 ? "applied" : string.Join("\n", rollouts.Select(r => r.Result!.Message));
            return OperationResult.Success(message, plan);
        }, done);
    }

    /// <summary>Grows or shrinks the slots. New slots start (unless the group is stopped); the highest slots retire.</summary>
    private void Scale(GroupRuntime group, int count)
    {
        group.Desired = count;
        while (group.Workers.Count > count)
        {
            var w = group.Workers[^1];
            group.Workers.RemoveAt(group.Workers.Count - 1);
            group.Retiring.Add(w);
            WorkerStateMachine.Handle(this, w, WorkerInput.Stop);
        }
        while (group.Workers.Count < count)
        {
            var w = new Worker(group, group.Workers.Count);
            group.Workers.Add(w);
            if (!group.AdminStopped)
            {
                WorkerStateMachine.Handle(this, w, WorkerInput.Start);
            }
        }
    }

    /// <summary>After every event: rollouts advance, retired workers and removed groups are let go, waiters are answered.</summary>
    private void Reconcile()
    {
        foreach (var r in _rollouts)
        {
            r.Step(this);
        }
        StepRecycles();
        foreach (var group in AllGroups)
        {
            for (var i = group.Retiring.Count - 1; i >= 0; i--)
            {
                var w = group.Retiring[i];
                if (!WorkerStateMachine.HasProcess(w.State) && w.State != WorkerState.Backoff)
                {
                    group.Retiring.RemoveAt(i);
                    if (w.Slot >= group.Desired && !group.AllWorkers.Any(o => o.Slot == w.Slot))
                    {
                        group.Listeners.ReleaseSlot(w.Slot);
                    }
                }
            }
        }
        for (var i = _removing.Count - 1; i >= 0; i--)
        {
            var group = _removing[i];
            if (!group.AllWorkers.Any(w => WorkerStateMachine.HasProcess(w.State)))
            {
                _removing.RemoveAt(i);
                group.Retire();
            }
        }
        for (var i = _waiters.Count - 1; i >= 0; i--)
        {
            if (_waiters[i].Check() is { } result)
            {
                var done = _waiters[i].Done;
                _waiters.RemoveAt(i);
                done.TrySetResult(result);
            }
        }
    }

    private Task<OperationResult> Submit(Action<Supervisor, TaskCompletionSource<OperationResult>> run)
    {
        var done = new TaskCompletionSource<OperationResult>(); // nothing waits on it: the loop passes it on to the answer
        var answer = new TaskCompletionSource<OperationResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(new OperationEvent(s => run(s, done), done, answer));
        return answer.Task;
    }

    private void WaitFor(Func<OperationResult?> check, TaskCompletionSource<OperationResult> done)
    {
        if (check() is { } result)
        {
            done.TrySetResult(result);
        }
        else
        {
            _waiters.Add((check, done));
        }
    }

    /// <summary>The group, if it exists and no rollout is running; otherwise answers <paramref name="done"/>.</summary>
    private GroupRuntime? Mutable(string name, TaskCompletionSource<OperationResult> done)
    {
        if (!_groups.TryGetValue(name, out var group))
        {
            done.TrySetResult(NoSuchGroup(name));
            return null;
        }
        if (Rolling)
        {
            done.TrySetResult(Busy());
            return null;
        }
        return group;
    }

    private OperationResult NoSuchGroup(string name) => OperationResult.Error(ErrorCodes.NotFound,
        $"no group '{name}'; groups are: {(_groups.Count == 0 ? "(none)" : string.Join(", ", _groups.Keys.Order(StringComparer.Ordinal)))}");

    private OperationResult Busy() => OperationResult.Error(ErrorCodes.Busy, _rollouts.Length > 0
        ? $"a rollout of {string.Join(", ", _rollouts.Select(r => r.Group.Name))} is in progress; try again when it ends"
        : $"a worker of {string.Join(", ", _recycles.Keys.Select(g => g.Name))} is being replaced (max_memory, max_lifetime or its health check); try again in a moment");
}
