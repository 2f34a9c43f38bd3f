namespace Clusterd.Readiness;

/// <summary>
/// Which worker a notify message speaks for. The kernel tells the sender's pid; a worker speaks as its main process
/// or as any process of its session (workers lead their own session, so that is the worker and its descendants that
/// did not leave it, e.g. <c>systemd-notify --ready</c> run from its shell). Only workers of the group whose socket it
/// came in on count: a worker cannot speak on another group's socket, even when both run as the same user. The loop
/// learns a worker's pid before the worker can run (ProcessWorkerLauncher), so an unknown sender is never a worker
/// whose pid is still on its way.
/// </summary>
internal static class NotifyAttribution
{
    /// <param name="mainPids">Every running worker by its main pid.</param>
    /// <param name="inGroup">Whether a worker belongs to the socket's group.</param>
    /// <returns>The worker, or null for a stranger.</returns>
    public static TWorker? Resolve<TWorker>(int pid, int session, IReadOnlyDictionary<int, TWorker> mainPids, Func<TWorker, bool> inGroup)
        where TWorker : class
    {
        if (mainPids.TryGetValue(pid, out var worker) || (session > 0 && mainPids.TryGetValue(session, out worker)))
        {
            return inGroup(worker) ? worker : null;
        }
        return null;
    }
}
