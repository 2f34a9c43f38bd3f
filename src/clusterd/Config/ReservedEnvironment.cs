namespace Clusterd.Config;

/// <summary>
/// Environment variables clusterd sets for every worker (the systemd contract and its own): a group's <c>env</c> may
/// not set them, the supervisor writes them last, and clusterd-exec sets the pid-valued ones to the worker's own pid.
/// The one list; the validator, the supervisor and the launcher all read it.
/// </summary>
internal static class ReservedEnvironment
{
    public const string ListenFds = "LISTEN_FDS";
    public const string ListenPid = "LISTEN_PID";
    public const string ListenFdNames = "LISTEN_FDNAMES";
    public const string NotifySocket = "NOTIFY_SOCKET";
    public const string WatchdogUsec = "WATCHDOG_USEC";
    public const string WatchdogPid = "WATCHDOG_PID";
    public const string SystemdExecPid = "SYSTEMD_EXEC_PID";
    public const string Group = "CLUSTERD_GROUP";
    public const string Worker = "CLUSTERD_WORKER";
    public const string Generation = "CLUSTERD_GENERATION";

    /// <summary>Set for a <c>command</c> health check only: the pid of the worker it checks.</summary>
    public const string WorkerPid = "CLUSTERD_WORKER_PID";

    public static readonly IReadOnlySet<string> Names = new HashSet<string>(StringComparer.Ordinal)
    {
        ListenFds, ListenPid, ListenFdNames, NotifySocket, WatchdogUsec, WatchdogPid, SystemdExecPid, Group, Worker, Generation, WorkerPid,
    };
}
