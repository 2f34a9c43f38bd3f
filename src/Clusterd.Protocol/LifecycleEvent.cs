namespace Clusterd.Protocol;

/// <summary>
/// One entry of clusterd's lifecycle journal. <see cref="Seq"/> grows by one per event for the life of the
/// daemon, so a reader can resume with "events since N" and see what it missed.
/// </summary>
/// <param name="Kind">One of <see cref="LifecycleEventKinds"/>.</param>
/// <param name="Reason">For <c>exit</c>: one of <see cref="ExitReasons"/>; for others a short free text or null.</param>
public sealed record LifecycleEvent(
    long Seq,
    DateTimeOffset Time,
    string Kind,
    string Group,
    int Slot,
    int Pid,
    int Generation,
    string? Reason = null,
    int? ExitCode = null,
    int? Signal = null,
    double? DelaySeconds = null);

/// <summary>The event kinds, named after Node's cluster events where one exists.</summary>
public static class LifecycleEventKinds
{
    public const string Fork = "fork";
    public const string Online = "online";
    public const string Listening = "listening";
    public const string Disconnect = "disconnect";
    public const string Exit = "exit";
    public const string Restart = "restart";
    public const string Backoff = "backoff";
    public const string Failed = "failed";
}

/// <summary>Why a worker process ended.</summary>
public static class ExitReasons
{
    /// <summary>It exited on its own, with a code.</summary>
    public const string Exited = "exited";
    /// <summary>A signal clusterd did not send ended it (SIGSEGV, a kill -9 by hand; an OOM kill seen without a cgroup).</summary>
    public const string Crashed = "crashed";
    /// <summary>clusterd asked it to stop and it did.</summary>
    public const string Stopped = "stopped";
    /// <summary>It ignored the stop signal for stop_timeout and was SIGKILLed.</summary>
    public const string Killed = "killed";
    /// <summary>It stopped sending WATCHDOG=1 within watchdog_timeout.</summary>
    public const string Watchdog = "watchdog";
    /// <summary>It did not become ready within ready_timeout.</summary>
    public const string ReadyTimeout = "ready-timeout";
    /// <summary>clusterd could not start the command at all (not found, no permission, bad user).</summary>
    public const string ExecFailed = "exec-failed";
    /// <summary>The kernel's OOM killer ended a process of it (its cgroup's memory.events oom_kill rose).</summary>
    public const string Oom = "oom";
    /// <summary>Its memory stayed above max_memory; a ready replacement took its slot first.</summary>
    public const string MemoryLimit = "memory-limit";
    /// <summary>Its health check failed `failures` times in a row; a ready replacement took its slot first.</summary>
    public const string Unhealthy = "unhealthy";
    /// <summary>It reached max_lifetime; a ready replacement took its slot first.</summary>
    public const string MaxLifetime = "max-lifetime";
}
