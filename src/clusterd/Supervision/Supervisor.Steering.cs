using Microsoft.Extensions.Logging;

namespace Clusterd.Supervision;

/// <summary>
/// A dead worker's slot in a <c>reuseport</c> group (docs/adr/0004): its sockets are steered away and closed at once,
/// so the connections queued there move to the live workers instead of waiting for the replacement, which gets
/// sockets of its own, unrouted until it is ready, as a rolling replacement does.
/// </summary>
internal sealed partial class Supervisor
{
    /// <summary>
    /// Before <paramref name="worker"/>'s exit is handled, while its state still tells a crash from a stop it was
    /// asked for: if it died unasked while another worker of the group serves, its slot is vacated. With no live worker left, no steering,
    /// or a rollout replacing the slot, its queue waits for the next process, as it always did.
    /// </summary>
    private void VacateIfDied(Worker worker)
    {
        var group = worker.Group;
        if (_shuttingDown || worker.IsSurge || !IsSlotHolder(worker)
            || worker.State is not (WorkerState.Spawning or WorkerState.Starting or WorkerState.Ready)
            || group.Surge.Exists(s => s.Slot == worker.Slot)
            || !group.Workers.Exists(w => w != worker && w.State == WorkerState.Ready && w.OwnSockets is null))
        {
            return;
        }
        if (group.Listeners.Vacate(worker.Slot))
        {
            LogSlotVacated(group.Name, worker.Slot);
        }
    }

    /// <summary>The sockets a vacated slot's next process starts with (unrouted), or null where the slot is not vacated.</summary>
    private static IReadOnlyList<System.Net.Sockets.Socket>? OpenForVacatedSlot(Worker worker)
    {
        if (worker.IsSurge || !IsSlotHolder(worker))
        {
            return null;
        }
        return worker.OwnSockets = worker.Group.Listeners.OpenForVacatedSlot(worker.Slot);
    }

    /// <summary>A vacated slot's new process is ready: its sockets become the slot's, and the fd store follows.</summary>
    private static void RouteIfVacated(Worker worker)
    {
        if (worker.IsSurge || !IsSlotHolder(worker) || worker.OwnSockets is not { } own)
        {
            return;
        }
        var listeners = worker.Group.Listeners;
        worker.OwnSockets = null;
        // Normally nothing: a socket routed for the slot meanwhile (steering broke) has no queue anyone waits on.
        listeners.CloseUnrouted(listeners.Promote(worker.Slot, own));
    }

    private static bool IsSlotHolder(Worker worker) =>
        worker.Slot < worker.Group.Workers.Count && worker.Group.Workers[worker.Slot] == worker;

    [LoggerMessage(EventId = 45, Level = LogLevel.Information,
        Message = "{Group}/{Slot} died: new connections go to the other workers, and those queued for it were moved there; its replacement gets them once it is ready")]
    private partial void LogSlotVacated(string group, int slot);
}
