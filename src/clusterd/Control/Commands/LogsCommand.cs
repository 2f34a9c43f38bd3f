using Clusterd.Protocol;
using Clusterd.Protocol.Messages;
using Clusterd.Supervision;

namespace Clusterd.Control.Commands;

/// <summary>
/// Request <c>{"command":"logs","group":"web","slot":1,"lines":100,"follow":true}</c> (slot optional). Answers the last
/// lines of captured worker output, oldest first, in pages (<c>more</c> on all but the last); with follow, further
/// frames as workers write. <c>clusterctl logs GROUP[/SLOT] [-n N] [--follow]</c>.
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
        if (request.Group is null)
        {
            await connection.SendAsync(Responses.MissingField(request.Id, "group", "{\"command\":\"logs\",\"group\":\"web\"}"), cancellationToken);
            return;
        }
        if (supervisor.Snapshot.Groups.All(g => g.Name != request.Group))
        {
            await connection.SendAsync(Response.Failure(request.Id, ErrorCodes.NotFound, $"no group '{request.Group}'"), cancellationToken);
            return;
        }
        var book = supervisor.Logs;
        var type = ProtocolJsonContext.Default.LogLine;
        Response Page(IReadOnlyList<LogLine> lines) => Response.Success(request.Id) with { Logs = lines };
        bool Wanted(LogLine l) => l.Group == request.Group && (request.Slot is null || l.Slot == request.Slot);
        var tail = book.Tail(request.Group, request.Slot, Math.Clamp(request.Lines ?? DefaultLines, 0, 10_000));
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
