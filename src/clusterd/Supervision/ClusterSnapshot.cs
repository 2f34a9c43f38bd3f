using Clusterd.Protocol;

namespace Clusterd.Supervision;

/// <summary>
/// An immutable picture of every group and worker, published by the supervisor loop after each event it handles.
/// Readers on other threads (the control server, metrics scrapes) take it without locks and never see half an update.
/// </summary>
internal sealed record ClusterSnapshot(DateTimeOffset Taken, IReadOnlyList<GroupSnapshot> Groups)
{
    public static readonly ClusterSnapshot Empty = new(DateTimeOffset.MinValue, []);
}

/// <param name="RequiredReady">Ready workers the group needs to count as ready (<c>min_ready</c>, at most <paramref name="Desired"/>).</param>
/// <param name="WorkersSource">Where <paramref name="Desired"/> came from: "config", "auto: ..." (the CPUs), or "scale" (clusterctl).</param>
internal sealed record GroupSnapshot(string Name, int Desired, bool Stopped, int Ready, int Generation, IReadOnlyList<string> Listen,
    IReadOnlyList<WorkerSnapshot> Workers, int RequiredReady, string WorkersSource)
{
    public const string WorkersFromScale = "scale";

    public PublicGroupState State => PublicStates.OfGroup(Stopped, Ready, Desired, Workers.Select(w => w.State));
}

internal sealed record WorkerSnapshot(
    int Slot,
    int Pid,
    PublicWorkerState State,
    int Generation,
    int Restarts,
    DateTimeOffset? SpawnedAt,
    DateTimeOffset? ReadyAt,
    string? LastExitReason,
    int? LastExitCode,
    int? LastExitSignal,
    string? Status,
    long DroppedOutputLines,
    string? Cgroup = null,
    bool? HealthPassed = null,
    double? HealthLatencySeconds = null,
    string? HealthFailure = null);
