namespace Clusterd.Readiness;

internal enum NotifyVerdict
{
    /// <summary>Applied to the worker it came from.</summary>
    Delivered,

    /// <summary>From no known worker yet, but a worker of the group is starting whose pid the loop does not know yet: ask again once it does.</summary>
    Hold,

    /// <summary>From no worker of the group: ignored.</summary>
    Stranger,
}

/// <summary>
/// Which worker a notify message speaks for. The kernel tells the sender's pid; a worker speaks as its main process
/// or as any process of its session (workers lead their own session, so that is the worker and its descendants that
/// did not leave it, e.g. <c>systemd-notify --ready</c> run from its shell). Only workers of the group whose socket it
/// came in on count: a worker cannot speak on another group's socket, even when both run as the same user.
/// </summary>
internal static class NotifyAttribution
{
    /// <param name="mainPids">Every running worker by its main pid.</param>
    /// <param name="inGroup">Whether a worker belongs to the socket's group.</param>
    /// <param name="spawnPending">
    /// A worker of the group has been started and the loop has not learnt its pid yet: its first READY=1 can overtake
    /// the news of its pid (they travel by different threads), so an unknown sender is held rather than refused.
    /// </param>
    public static (NotifyVerdict Verdict, TWorker? Worker) Resolve<TWorker>(int pid, int session,
        IReadOnlyDictionary<int, TWorker> mainPids, Func<TWorker, bool> inGroup, bool spawnPending)
        where TWorker : class
    {
        if (mainPids.TryGetValue(pid, out var worker) || (session > 0 && mainPids.TryGetValue(session, out worker)))
        {
            return inGroup(worker) ? (NotifyVerdict.Delivered, worker) : (NotifyVerdict.Stranger, null);
        }
        return (spawnPending ? NotifyVerdict.Hold : NotifyVerdict.Stranger, null);
    }
}
