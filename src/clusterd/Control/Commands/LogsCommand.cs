using Clusterd.Protocol;
using Clusterd.Protocol.Messages;
using Clusterd.Supervision;

namespace Clusterd.Control.Commands;

/// <summary>
/// Request <c>{"command":"logs","group":"web","slot":1,"stream":"stderr","after":"2026-11-30T17:00:00Z","lines":100,"follow":true}</c>
/// (all but <c>command</c> optional; no group: every group's). Answers the last lines of captured worker output,
/// oldest first, in pages (<c>more</c> on all but the last); with follow, further frames as workers write.
/// <c>clusterctl logs [GROUP[/SLOT]] [--stderr] [--since 10m] [-n N] [--follow]</c>.
/// </summary>
internal sealed class LogsCommand(Supervisor supervisor) : IControlCommand
{
    public const int DefaultLines = 100;

    /// <summary>
    /// A follower this many lines behind is cut off. Queued lines may be ones the log book has let go; at 4 KiB a line,
    /// the most a follower can keep alive is ~16 MiB of text.
    /// </summary>
    public const int FollowCapacity = 2000;

    public string Name => Clusterd.Protocol.Messages.Commands.Logs;

    public async Task ExecuteAsync(Request request, ControlConnection connection, CancellationToken cancellationToken)
    {
        if (request.Group is not null && supervisor.Snapshot.Groups.All(g => g.Name != request.Group))
        {
            await connection.SendAsync(Response.Failure(request.Id, ErrorCodes.NotFound, $"no group '{request.Group}'"), cancellationToken);
            return;
        }
        if (request.Stream is not (null or "stdout" or "stderr"))
        {
            await connection.SendAsync(Response.Failure(request.Id, ErrorCodes.BadRequest,
                $"'stream' must be \"stdout\" or \"stderr\" (got \"{request.Stream}\")"), cancellationToken);
            return;
        }
        if (request.Group is null && request.Slot is not null)
        {
            await connection.SendAsync(Responses.MissingField(request.Id, "group", "{\"command\":\"logs\",\"group\":\"web\",\"slot\":1}"), cancellationToken);
            return;
        }
        var book = supervisor.Logs;
        var type = ProtocolJsonContext.Default.LogLine;
        Response Page(IReadOnlyList<LogLine> lines) => Response.Success(request.Id) with { Logs = lines };
        bool Wanted(LogLine l) =>
            (request.Group is null || l.Group == request.Group)
            && (request.Slot is null || l.Slot == request.Slot)
            && (request.Stream is null || l.Stream == request.Stream)
            && (request.After is null || l.Time >= request.After);
        var tail = book.Tail(request.Group, Wanted, Math.Clamp(request.Lines ?? DefaultLines, 0, 10_000));
        await connection.SendPagesAsync(tail, type, Page, moreAfter: request.Follow, cancellationToken);
        if (!request.Follow)
        {
            return;
        }
        var last = tail.Count > 0 ? tail[^1].Seq : 0;
        Action<LogLine>? forward = null;
        await FollowStream.RunAsync<LogLine>(
            connection,
            request.Id,
            FollowCapacity,
            type,
            onItem =>
            {
                forward = l =>
                {
                    if (Wanted(l) && l.Seq > last)
                    {
                        onItem(l);
                    }
                };
                book.Appended += forward;
            },
            _ => book.Appended -= forward,
            Page,
            cancellationToken);
    }
}
