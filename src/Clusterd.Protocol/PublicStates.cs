using System.Text.Json.Serialization;

namespace Clusterd.Protocol;

/// <summary>
/// What operators and metrics see of a worker slot: the daemon's detailed phases (spawning, killing, ...) mapped onto
/// a few states by one table (systemd's <c>state_translation_table</c>). On the wire, the lowercase name.
/// </summary>
public enum PublicWorkerState
{
    [JsonStringEnumMemberName("starting")] Starting,
    [JsonStringEnumMemberName("ready")] Ready,
    [JsonStringEnumMemberName("draining")] Draining,
    [JsonStringEnumMemberName("stopping")] Stopping,
    [JsonStringEnumMemberName("backoff")] Backoff,
    [JsonStringEnumMemberName("failed")] Failed,
    [JsonStringEnumMemberName("stopped")] Stopped,
}

/// <summary>A group as a whole; see <see cref="PublicStates.OfGroup"/>.</summary>
public enum PublicGroupState
{
    [JsonStringEnumMemberName("running")] Running,
    [JsonStringEnumMemberName("degraded")] Degraded,
    [JsonStringEnumMemberName("starting")] Starting,
    [JsonStringEnumMemberName("stopped")] Stopped,
    [JsonStringEnumMemberName("failed")] Failed,
}

public static class PublicStates
{
    /// <summary>Every worker state, in the order status and metrics list them.</summary>
    public static readonly IReadOnlyList<PublicWorkerState> Workers = Enum.GetValues<PublicWorkerState>();

    /// <summary>The wire name: <c>ready</c>, <c>backoff</c>, ... (metric labels and table cells use it too).</summary>
    public static string Name(this PublicWorkerState state) =>
        state.IsDefined() ? StateNames.Workers[(int)state] : throw new ArgumentOutOfRangeException(nameof(state));

    public static string Name(this PublicGroupState state) =>
        state.IsDefined() ? StateNames.Groups[(int)state] : throw new ArgumentOutOfRangeException(nameof(state));

    /// <summary>A member of the enum: JSON may carry any number for a state, as System.Text.Json reads it.</summary>
    public static bool IsDefined(this PublicWorkerState state) => (uint)state < (uint)StateNames.Workers.Length;

    public static bool IsDefined(this PublicGroupState state) => (uint)state < (uint)StateNames.Groups.Length;

    /// <summary>running: every desired worker ready; degraded: fewer; failed: a slot gave up; stopped: by an operator.</summary>
    public static PublicGroupState OfGroup(bool adminStopped, int ready, int desired, IEnumerable<PublicWorkerState> workers)
    {
        var states = workers as IReadOnlyCollection<PublicWorkerState> ?? workers.ToArray();
        return adminStopped ? PublicGroupState.Stopped
            : states.Contains(PublicWorkerState.Failed) ? PublicGroupState.Failed
            : ready >= desired ? PublicGroupState.Running
            : states.All(s => s == PublicWorkerState.Starting) ? PublicGroupState.Starting
            : PublicGroupState.Degraded;
    }
}

/// <summary>
/// The wire names (each member's <see cref="JsonStringEnumMemberNameAttribute"/>), indexed by value: for <see cref="PublicStates.Name(PublicWorkerState)"/>
/// and clusterctl's reader of status. Apart from <see cref="PublicStates"/> so that reading them runs no <c>Enum.GetValues</c>.
/// </summary>
internal static class StateNames
{
    public static readonly string[] Workers = ["starting", "ready", "draining", "stopping", "backoff", "failed", "stopped"];

    public static readonly string[] Groups = ["running", "degraded", "starting", "stopped", "failed"];
}
