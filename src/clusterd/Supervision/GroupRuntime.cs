using System.Runtime.InteropServices;
using Clusterd.Config;
using Clusterd.Protocol;
using Clusterd.Readiness;
using Clusterd.Sockets;

namespace Clusterd.Supervision;

/// <summary>A configured group as it runs: its desired configuration, its sockets and its worker slots.</summary>
internal sealed class GroupRuntime : IDisposable
{
    public GroupRuntime(GroupConfig config, GroupListeners listeners, int generation)
    {
        Config = config;
        Listeners = listeners;
        Generation = generation;
        Desired = config.Workers;
        for (var slot = 0; slot < config.Workers; slot++)
        {
            Workers.Add(new Worker(this, slot));
        }
    }

    public string Name => Config.Name;

    /// <summary>What new processes are started with. Replaced by a reload; old workers keep theirs until they go.</summary>
    public GroupConfig Config { get; set; }

    public GroupListeners Listeners { get; set; }

    /// <summary>The group's NOTIFY_SOCKET (Linux); it lives as long as the group, until its last worker is gone.</summary>
    public NotifySocket? Notify { get => _notify; init => _notify = value; }

    private NotifySocket? _notify;

    /// <summary>Bumped by every rollout; CLUSTERD_GENERATION of the workers it starts.</summary>
    public int Generation { get; set; }

    /// <summary>Desired worker count: the config's, until `clusterctl scale` says otherwise.</summary>
    public int Desired { get; set; }

    /// <summary>Stopped by an operator (`clusterctl stop`): nothing is started until `start`.</summary>
    public bool AdminStopped { get; set; }

    /// <summary>The worker filling each slot, indexed by slot.</summary>
    public List<Worker> Workers { get; } = [];

    /// <summary>Replacements a rollout has started and not yet promoted into their slots.</summary>
    public List<Worker> Surge { get; } = [];

    /// <summary>Workers on their way out (replaced, scaled down, group removed), kept until they have exited.</summary>
    public List<Worker> Retiring { get; } = [];

    public IEnumerable<Worker> AllWorkers => Workers.Concat(Surge).Concat(Retiring);

    /// <summary>
    /// <see cref="AllWorkers"/> by slot, and within a slot in that order. With no rollout or scale-down in flight that
    /// is <see cref="Workers"/> itself, which is indexed by slot: the loop publishes after every event, and sorting
    /// 1000 workers each time was a tenth of its CPU during a 1000-worker start.
    /// </summary>
    public IEnumerable<Worker> AllWorkersBySlot => Surge.Count == 0 && Retiring.Count == 0 ? Workers : AllWorkers.OrderBy(w => w.Slot);

    /// <summary>Output lines dropped off the loop, every worker's (each counts its own too): the status snapshot's cue to look.</summary>
    public long DroppedOutputLines;

    /// <summary>Workers that set a property their snapshot shows since <see cref="SnapshotWorkers"/> last ran.</summary>
    private readonly List<Worker> _touched = [];

    /// <summary>What <see cref="SnapshotWorkers"/> last returned with nothing in flight, and what it was made of.</summary>
    private (WorkerSnapshot[] Snapshots, Worker[] Workers, long Drops, int Ready, int Failed)? _shown;

    public void Touched(Worker worker) => _touched.Add(worker);

    /// <summary>
    /// Every worker's snapshot, by slot, and how many slots are ready and failed: for the status snapshot, which the
    /// loop publishes after every burst of events (~3000 of them in a start of 1000 workers). With nothing in flight,
    /// and the same workers in the slots, it is the last array again, or a copy with the workers that changed since
    /// made anew: O(workers changed) and a comparison of references, not O(workers) snapshots. Output dropped off the
    /// loop, or a rollout or scale in flight, makes it all again.
    /// </summary>
    public (IReadOnlyList<WorkerSnapshot> Workers, int Ready, int Failed) SnapshotWorkers()
    {
        var drops = Volatile.Read(ref DroppedOutputLines);
        var touched = CollectionsMarshal.AsSpan(_touched);
        try
        {
            if (AllWorkersBySlot is not List<Worker> slots)
            {
                _shown = null;
                var all = AllWorkersBySlot.Select(w => w.Snapshot()).ToArray();
                return (all, Workers.Count(w => w.State == WorkerState.Ready), all.Count(w => w.State == PublicWorkerState.Failed));
            }
            if (_shown is not { } shown || shown.Drops != drops || !shown.Workers.AsSpan().SequenceEqual(CollectionsMarshal.AsSpan(slots)))
            {
                var snapshots = new WorkerSnapshot[slots.Count];
                var (ready, failed) = (0, 0);
                for (var i = 0; i < snapshots.Length; i++)
                {
                    snapshots[i] = slots[i].Snapshot();
                    ready += snapshots[i].State == PublicWorkerState.Ready ? 1 : 0;
                    failed += snapshots[i].State == PublicWorkerState.Failed ? 1 : 0;
                }
                _shown = (snapshots, [.. slots], drops, ready, failed);
                return (snapshots, ready, failed);
            }
            if (touched.IsEmpty)
            {
                return (shown.Snapshots, shown.Ready, shown.Failed);
            }
            var patched = (WorkerSnapshot[])shown.Snapshots.Clone();
            var (nowReady, nowFailed) = (shown.Ready, shown.Failed);
            foreach (var w in touched)
            {
                if (w.Slot < shown.Workers.Length && shown.Workers[w.Slot] == w) // else not in a slot: not shown
                {
                    var (was, now) = (patched[w.Slot], w.Snapshot());
                    nowReady += (now.State == PublicWorkerState.Ready ? 1 : 0) - (was.State == PublicWorkerState.Ready ? 1 : 0);
                    nowFailed += (now.State == PublicWorkerState.Failed ? 1 : 0) - (was.State == PublicWorkerState.Failed ? 1 : 0);
                    patched[w.Slot] = now;
                }
            }
            _shown = (patched, shown.Workers, drops, nowReady, nowFailed);
            return (patched, nowReady, nowFailed);
        }
        finally
        {
            _touched.Clear();
        }
    }

    /// <summary>clusterd is stopping: close the sockets, leaving any service-manager copies for the next start.</summary>
    public void Dispose()
    {
        Listeners.Dispose();
        CloseNotify();
    }

    /// <summary>The group is gone from the configuration: its sockets close for good.</summary>
    public void Retire()
    {
        Listeners.Retire();
        CloseNotify();
    }

    /// <summary>Closes the notify socket and removes its file; the group's workers can no longer notify.</summary>
    public void CloseNotify()
    {
        _notify?.Dispose();
        _notify = null;
    }
}
