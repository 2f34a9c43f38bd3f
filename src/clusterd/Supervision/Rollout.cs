using Clusterd.Protocol;

namespace Clusterd.Supervision;

/// <summary>
/// A readiness-gated rolling replacement of one group's workers (einhorn's "smooth" upgrade, Kubernetes' maxSurge /
/// maxUnavailable). For each slot a replacement starts on the slot's own sockets, and only once it is ready is the
/// old worker stopped, so capacity never drops below desired (with max_unavailable = 0). If a replacement dies or
/// times out before it is ready, the rollout stops there: slots not yet replaced keep their old workers, and the
/// group goes back to its previous configuration for any restart.
/// Advanced by <see cref="Step"/> on the supervisor loop after every event; it never waits itself.
/// A health replacement (Supervisor.Health.cs) is a rollout of the given <paramref name="slots"/> only, whose old
/// workers exit with <paramref name="reason"/> instead of "stopped".
/// </summary>
internal sealed class Rollout(GroupRuntime group, int maxSurge, int maxUnavailable, Action<GroupRuntime>? revert,
    IReadOnlyCollection<int>? slots = null, string? reason = null)
{
    private readonly Queue<int> _pending = new();
    private readonly Dictionary<int, (Worker Old, Worker New)> _inFlight = [];
    private int _replaced;

    public GroupRuntime Group { get; } = group;

    /// <summary>Set when the rollout ends; null while it runs.</summary>
    public OperationResult? Result { get; private set; }

    public void Begin(IWorkerHost host)
    {
        foreach (var w in Group.Workers.Where(w => slots is null || slots.Contains(w.Slot)))
        {
            if (w.State is WorkerState.Starting or WorkerState.Ready or WorkerState.Spawning)
            {
                _pending.Enqueue(w.Slot);
            }
            else if (w.State is WorkerState.Stopped or WorkerState.Failed && !Group.AdminStopped && slots is null)
            {
                WorkerStateMachine.Handle(host, w, WorkerInput.Start); // nothing to keep serving: just start it anew
            }
            // Backoff: its next spawn takes the new configuration anyway.
        }
        Step(host);
    }

    public void Step(IWorkerHost host)
    {
        if (Result is not null)
        {
            return;
        }
        foreach (var (slot, (old, replacement)) in _inFlight.ToArray())
        {
            if (replacement.IsSurge && replacement.State == WorkerState.Ready)
            {
                Promote(host, slot, old, replacement);
            }
            if (replacement.IsSurge && !WorkerStateMachine.HasProcess(replacement.State))
            {
                Abort(host, slot, replacement);
                return;
            }
            if (!replacement.IsSurge && !WorkerStateMachine.HasProcess(old.State))
            {
                _inFlight.Remove(slot); // the old worker is gone: this slot is done
                _replaced++;
            }
        }
        var surging = _inFlight.Values.Count(p => p.New.IsSurge && WorkerStateMachine.HasProcess(p.Old.State));
        var unavailable = _inFlight.Values.Count(p => p.New.IsSurge && !WorkerStateMachine.HasProcess(p.Old.State));
        while (_pending.Count > 0 && (surging < maxSurge || unavailable < maxUnavailable))
        {
            var slot = _pending.Dequeue();
            if (slot >= Group.Workers.Count)
            {
                continue; // scaled away meanwhile
            }
            var old = Group.Workers[slot];
            var replacement = new Worker(Group, slot) { IsSurge = true, OwnSockets = Group.Listeners.OpenForReplacement(slot) };
            Group.Surge.Add(replacement);
            _inFlight[slot] = (old, replacement);
            if (surging < maxSurge)
            {
                surging++;
            }
            else
            {
                unavailable++;
                WorkerStateMachine.Handle(host, old, WorkerInput.Stop, text: reason); // max_unavailable: make room first
            }
            WorkerStateMachine.Handle(host, replacement, WorkerInput.Start);
        }
        if (_pending.Count == 0 && _inFlight.Count == 0)
        {
            Result = OperationResult.Success($"{Group.Name}: replaced {_replaced} workers; all run generation {Group.Generation}");
        }
    }

    private void Promote(IWorkerHost host, int slot, Worker old, Worker replacement)
    {
        replacement.IsSurge = false;
        Group.Surge.Remove(replacement);
        if (slot < Group.Workers.Count && Group.Workers[slot] == old)
        {
            Group.Workers[slot] = replacement;
        }
        if (replacement.OwnSockets is { } own)
        {
            // The slot's sockets become the replacement's; the old ones get no new connection from now on.
            // A slot vacated when its worker died: that worker's next process has unrouted sockets of its own too.
            old.OwnSockets = [.. Group.Listeners.Promote(slot, own), .. old.OwnSockets ?? []];
            replacement.OwnSockets = null;
            old.CloseOwnSocketsIfGone(); // if nobody is left to accept what is queued there, move it on
        }
        if (WorkerStateMachine.HasProcess(old.State) || old.State == WorkerState.Backoff)
        {
            Group.Retiring.Add(old);
            // With its own sockets steered away it can finish what it has before the signal (drain_delay).
            WorkerStateMachine.Handle(host, old, old.OwnSockets is null ? WorkerInput.Stop : WorkerInput.Drain, text: reason);
        }
    }

    private void Abort(IWorkerHost host, int slot, Worker failed)
    {
        revert?.Invoke(Group); // first, so that whatever restarts below runs the configuration that worked
        Group.Surge.Remove(failed);
        var why = failed.LastExit is { } exit ? WorkerStateMachine.Describe(exit) : "it stopped";
        foreach (var (_, (old, replacement)) in _inFlight)
        {
            if (replacement.IsSurge && replacement != failed)
            {
                Group.Surge.Remove(replacement);
                Group.Retiring.Add(replacement);
                WorkerStateMachine.Handle(host, replacement, WorkerInput.Stop);
            }
            if (replacement.IsSurge && old.State is WorkerState.Stopped or WorkerState.Stopping && !Group.AdminStopped)
            {
                // max_unavailable stopped it to make room; the slot needs a process again.
                WorkerStateMachine.Handle(host, old, WorkerInput.Start);
            }
        }
        Result = OperationResult.Error(ErrorCodes.Failed,
            $"{Group.Name}: rollout stopped at slot {slot}: the replacement {why}; {_replaced} slots were replaced, the other workers keep serving. See `clusterctl logs {Group.Name}/{slot}`.");
    }
}
