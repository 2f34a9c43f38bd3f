using Clusterd.Protocol;
using Clusterd.Protocol.Messages;
using Clusterd.Supervision;

namespace Clusterd.Control.Commands;

/// <summary>
/// Request <c>{"command":"logs","group":"web","slot":1,"lines":100,"follow":true}</c> (slot optional). Answers the last
/// lines of captured worker output, oldest first; with follow, further frames as workers write.
/// <c>clusterctl logs GROUP[/SLOT] [-n N] [--follow]</c>.
/// </summary>
internal sealed class LogsCommand(Supervisor supervisor) : IControlCommand
{
    public const int DefaultLines = 100;

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
        bool Wanted(LogLine l) => l.Group == request.Group && (request.Slot is null || l.Slot == request.Slot);
        var tail = book.Tail(request.Group, request.Slot, Math.Clamp(request.Lines ?? DefaultLines, 0, 10_000));
        if (!request.Follow)
        {
            await connection.SendAsync(Response.Success(request.Id) with { Logs = tail }, cancellationToken);
            return;
        }
        var last = tail.Count > 0 ? tail[^1].Seq : 0;
        await connection.SendAsync(Response.Success(request.Id) with { Logs = tail, More = true }, cancellationToken);
        Action<LogLine>? forward = null;
        await FollowStream.RunAsync<LogLine>(
            connection,
            request.Id,
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
            lines => Response.Success(request.Id) with { Logs = lines },
            cancellationToken);
    }
}
