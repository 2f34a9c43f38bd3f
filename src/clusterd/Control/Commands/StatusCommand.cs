using Clusterd.Platform;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;
using Clusterd.Supervision;

namespace Clusterd.Control.Commands;

/// <summary>
/// Request <c>{"command":"status","group":"web"}</c> (group optional); response
/// <c>{"cluster":{"groups":[{"name","desired","ready","state","generation","listen","workers":[{"slot","pid","state",
/// "restarts","uptime_seconds","last_exit","cpu_seconds","rss_bytes",...}]}]}}</c>, in pages: a long answer spans several
/// frames (<c>more</c>), and a group that does not fit one goes on in the next (<see cref="StatusData.Join"/>).
/// <c>clusterctl status [GROUP] [--json]</c>. Read from the supervisor's snapshot; waits for the loop only when it
/// deferred a publish (<see cref="Supervisor.CurrentSnapshotAsync"/>), so it shows every event handled. CPU and
/// RSS are at most <see cref="ProcessReadings.MaxAge"/> old (each group's <c>stats_read_at</c> says how old).
/// </summary>
internal sealed class StatusCommand(Supervisor supervisor, TimeProvider time, ProcessReadings readings) : IControlCommand
{
    public string Name => Clusterd.Protocol.Messages.Commands.Status;

    public async Task ExecuteAsync(Request request, ControlConnection connection, CancellationToken cancellationToken)
    {
        var snapshot = await supervisor.CurrentSnapshotAsync(cancellationToken);
        var groups = snapshot.Groups.Where(g => request.Group is null || g.Name == request.Group).ToArray();
        if (request.Group is not null && groups.Length == 0)
        {
            await connection.SendAsync(Response.Failure(request.Id, ErrorCodes.NotFound,
                $"no group '{request.Group}'; groups are: {string.Join(", ", snapshot.Groups.Select(g => g.Name))}"), cancellationToken);
            return;
        }
        var now = time.GetUtcNow();
        var wire = groups.Select(g =>
        {
            var read = readings.Of(g.Workers);
            return new GroupStatus(g.Name, g.Desired, g.Ready, g.State, g.Generation, g.Listen, ToWire(g.Workers, read.Stats, now),
                g.WorkersSource, g.RequiredReady, read.ReadAt);
        });
        using var sizes = new JsonSize();
        await connection.SendPagesAsync(Fragments(wire, sizes),
            fragments => Response.Success(request.Id) with { Cluster = new StatusData(fragments) }, moreAfter: false, cancellationToken);
    }

    /// <summary>
    /// Each group as one or more pieces, with their sizes in JSON: a group whose workers (with STATUS= texts of up to
    /// 4 KiB each) do not fit one page is split between workers, each piece carrying the group's own fields.
    /// </summary>
    internal static IEnumerable<(GroupStatus Piece, int Size)> Fragments(IEnumerable<GroupStatus> groups, JsonSize sizes)
    {
        foreach (var group in groups)
        {
            var header = sizes.Of(group with { Workers = [] }, ProtocolJsonContext.Default.GroupStatus);
            var workers = new List<WorkerStatus>();
            var size = header;
            foreach (var worker in group.Workers)
            {
                var added = sizes.Of(worker, ProtocolJsonContext.Default.WorkerStatus) + 1;
                if (workers.Count > 0 && size + added > Pages.Bytes)
                {
                    yield return (group with { Workers = workers }, size);
                    workers = [];
                    size = header;
                }
                workers.Add(worker);
                size += added;
            }
            yield return (group with { Workers = workers }, size);
        }
    }

    private static WorkerStatus[] ToWire(IReadOnlyList<WorkerSnapshot> workers, ProcessStat?[] readings, DateTimeOffset now) =>
        [.. workers.Select((w, i) => new WorkerStatus(w.Slot, w.Pid, w.State, w.Generation, w.Restarts,
            w.SpawnedAt is { } spawned ? Math.Round((now - spawned).TotalSeconds, 3) : null,
            w.LastExitReason, w.LastExitCode, w.LastExitSignal, readings[i]?.CpuSeconds, readings[i]?.ResidentBytes, w.Status,
            w.HealthPassed switch { true => "pass", false => "fail", null => null },
            w.HealthLatencySeconds is { } latency ? Math.Round(latency, 4) : null, w.HealthFailure))];
}
