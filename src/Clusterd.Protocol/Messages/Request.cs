namespace Clusterd.Protocol.Messages;

/// <summary>
/// One request: <c>{"id":1,"command":"scale","group":"web","count":4}</c>. Which fields a command reads is
/// documented on <see cref="Commands"/> and in docs/protocol.md; others are ignored.
/// </summary>
public sealed record Request
{
    /// <summary>Chosen by the client; echoed in every response to this request.</summary>
    public long Id { get; init; }

    public string Command { get; init; } = "";

    /// <summary>A group name, or "all" where the command allows it.</summary>
    public string? Group { get; init; }

    public int? Slot { get; init; }

    public int? Count { get; init; }

    public string? Signal { get; init; }

    public long? Since { get; init; }

    public bool Follow { get; init; }

    public int? Lines { get; init; }

    /// <summary><c>logs</c>: only lines of this stream, <c>stdout</c> or <c>stderr</c>.</summary>
    public string? Stream { get; init; }

    /// <summary><c>logs</c>: only lines captured at or after this time (<c>clusterctl logs --since 10m</c>).</summary>
    public DateTimeOffset? After { get; init; }

    public bool DryRun { get; init; }

    public int? MaxSurge { get; init; }

    public int? MaxUnavailable { get; init; }

    /// <summary><c>upgrade</c>: the new binary's path on the daemon's host; null: the daemon's own path.</summary>
    public string? Binary { get; init; }
}

/// <summary>The command names, with the request fields each one reads.</summary>
public static class Commands
{
    /// <summary>No fields. Answers "pong".</summary>
    public const string Ping = "ping";

    /// <summary>No fields. Answers <see cref="Response.Version"/>.</summary>
    public const string Version = "version";

    /// <summary><c>group</c> (optional). Answers <see cref="Response.Cluster"/>.</summary>
    public const string Status = "status";

    /// <summary><c>group</c> (a name or "all"), <c>max_surge</c>, <c>max_unavailable</c>. Answers when the rollout ends.</summary>
    public const string Restart = "restart";

    /// <summary><c>dry_run</c>. Answers <see cref="Response.Plan"/>, or <see cref="Response.ConfigErrors"/>.</summary>
    public const string Reload = "reload";

    /// <summary><c>group</c>, <c>count</c>.</summary>
    public const string Scale = "scale";

    /// <summary><c>group</c>. Stops every worker of the group and keeps it stopped.</summary>
    public const string Stop = "stop";

    /// <summary><c>group</c>. Starts a stopped or failed group.</summary>
    public const string Start = "start";

    /// <summary><c>group</c>, <c>slot</c> (optional), <c>signal</c>.</summary>
    public const string Signal = "signal";

    /// <summary><c>since</c>, <c>follow</c>. Answers <see cref="Response.Events"/>, then more frames while following.</summary>
    public const string Events = "events";

    /// <summary>
    /// <c>group</c> (optional: all groups), <c>slot</c> (optional), <c>stream</c> (optional), <c>after</c> (optional),
    /// <c>lines</c>, <c>follow</c>. Answers <see cref="Response.Logs"/>.
    /// </summary>
    public const string Logs = "logs";

    /// <summary>No fields. Reopens the worker log files (after an external logrotate moved them); answers a message.</summary>
    public const string ReopenLogs = "reopen_logs";

    /// <summary>
    /// <c>binary</c> (optional). Re-execs clusterd as that binary in the same process, workers untouched
    /// (docs/adr/0008): a first frame (<c>more</c>) once the binary's check passed, then the connection closes with the
    /// exec. A last frame with an error when the upgrade was refused or did not happen.
    /// </summary>
    public const string Upgrade = "upgrade";

    public static readonly IReadOnlySet<string> ReadOnly = new HashSet<string>(StringComparer.Ordinal)
    {
        Ping, Version, Status, Events, Logs,
    };

    public static readonly IReadOnlyList<string> All = [Ping, Version, Status, Restart, Reload, Scale, Stop, Start, Signal, Events, Logs, ReopenLogs, Upgrade];
}
