namespace Clusterd.Protocol.Messages;

/// <summary>
/// One response frame: <c>{"id":1,"ok":true,...}</c> or <c>{"id":1,"ok":false,"error":{"code":"not_found","message":"..."}}</c>.
/// Long answers (status, logs, events) and streams (events/logs with follow) send several frames for one request, each
/// a page of the list it carries; all but the last have <c>more</c>.
/// </summary>
public sealed record Response
{
    public long Id { get; init; }

    public bool Ok { get; init; }

    public ErrorInfo? Error { get; init; }

    /// <summary>More frames for this request follow.</summary>
    public bool More { get; init; }

    public string? Message { get; init; }

    public StatusData? Cluster { get; init; }

    public IReadOnlyList<LifecycleEvent>? Events { get; init; }

    public IReadOnlyList<LogLine>? Logs { get; init; }

    public ReloadPlan? Plan { get; init; }

    /// <summary>Every error of a rejected configuration, as <c>FILE:LINE:COL: message</c>.</summary>
    public IReadOnlyList<string>? ConfigErrors { get; init; }

    public VersionInfo? Version { get; init; }

    public static Response Success(long id, string? message = null) => new() { Id = id, Ok = true, Message = message };

    public static Response Failure(long id, string code, string message) => new() { Id = id, Ok = false, Error = new ErrorInfo(code, message) };
}

public sealed record ErrorInfo(string Code, string Message);

/// <param name="UpgradeFailure">
/// Why the last in-place upgrade did not happen, when the new binary could not take over and this one took its state
/// back; absent otherwise (added without a version change: an older client ignores it).
/// </param>
public sealed record VersionInfo(string Version, int Protocol, int Pid, DateTimeOffset StartedAt, string? UpgradeFailure = null);

public sealed record StatusData(IReadOnlyList<GroupStatus> Groups)
{
    /// <summary>
    /// Puts the pages of one status answer back together. A group whose workers did not fit one frame goes on at the
    /// start of the next under the same name; group names are unique, so equal neighbours are always one group.
    /// </summary>
    public static StatusData Join(IEnumerable<StatusData> pages)
    {
        var groups = new List<GroupStatus>();
        foreach (var group in pages.SelectMany(p => p.Groups))
        {
            if (groups.Count > 0 && groups[^1].Name == group.Name)
            {
                groups[^1] = groups[^1] with { Workers = [.. groups[^1].Workers, .. group.Workers] };
            }
            else
            {
                groups.Add(group);
            }
        }
        return new StatusData(groups);
    }
}

/// <param name="WorkersSource">
/// Where <paramref name="Desired"/> came from: <c>config</c> (a count in the file), <c>scale</c> (<c>clusterctl scale</c>),
/// or <c>auto: ...</c> followed by where the CPU count came from (affinity mask, cgroup CPU quota). An optional field
/// within protocol version 2: null from a clusterd that predates it.
/// </param>
/// <param name="RequiredReady">
/// Ready workers the group needs to count as ready (<c>min_ready</c>, at most <paramref name="Desired"/>): what
/// <c>/readyz</c> and <c>clusterctl health</c> judge by. Optional as <paramref name="WorkersSource"/> is; null means all desired.
/// </param>
/// <param name="StatsReadAt">
/// When the oldest of the workers' CPU and RSS readings was taken: clusterd shares them between requests for up to a
/// second rather than read every worker's /proc files for each. Optional as <paramref name="WorkersSource"/> is; null
/// when no worker has a process (or from a clusterd that predates it).
/// </param>
public sealed record GroupStatus(
    string Name,
    int Desired,
    int Ready,
    PublicGroupState State,
    int Generation,
    IReadOnlyList<string> Listen,
    IReadOnlyList<WorkerStatus> Workers,
    string? WorkersSource = null,
    int? RequiredReady = null,
    DateTimeOffset? StatsReadAt = null);

/// <param name="Health">The last health check of the process: "pass" or "fail"; absent without a check (or before the first).</param>
/// <param name="HealthLatencySeconds">How long that check took.</param>
/// <param name="HealthFailure">Why that check failed (a command check's with the end of its output); absent when it passed.</param>
public sealed record WorkerStatus(
    int Slot,
    int Pid,
    PublicWorkerState State,
    int Generation,
    int Restarts,
    double? UptimeSeconds,
    string? LastExit,
    int? LastExitCode,
    int? LastExitSignal,
    double? CpuSeconds,
    long? RssBytes,
    string? Status,
    string? Health = null,
    double? HealthLatencySeconds = null,
    string? HealthFailure = null);

public sealed record LogLine(long Seq, DateTimeOffset Time, string Group, int Slot, int Pid, string Stream, string Text);

/// <param name="Notes">What the reload does not apply, e.g. "[control] changed: it takes effect when clusterd restarts".</param>
public sealed record ReloadPlan(
    IReadOnlyList<string> Added,
    IReadOnlyList<string> Removed,
    IReadOnlyList<GroupChange> Changed,
    IReadOnlyList<string> Unchanged,
    IReadOnlyList<string>? Notes = null);

/// <param name="Changes">What differs, e.g. "workers: 2 -> 4", "env.NODE_ENV changed".</param>
/// <param name="Rolls">True when the change needs new workers (a rolling restart); false for changes applied in place (workers count).</param>
public sealed record GroupChange(string Name, IReadOnlyList<string> Changes, bool Rolls);
