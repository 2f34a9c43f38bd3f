using Clusterd.Protocol.Messages;
using Clusterd.Supervision;

namespace Clusterd.Control.Commands;

/// <summary>
/// Request <c>{"command":"scale","group":"web","count":4}</c>. New slots start at once; the highest slots stop gracefully.
/// <c>clusterctl scale GROUP N</c>.
/// </summary>
internal sealed class ScaleCommand(Supervisor supervisor) : IControlCommand
{
    public string Name => Clusterd.Protocol.Messages.Commands.Scale;

    public async Task ExecuteAsync(Request request, ControlConnection connection, CancellationToken cancellationToken)
    {
        if (request.Group is null || request.Count is null)
        {
            await connection.SendAsync(Responses.MissingField(request.Id, request.Group is null ? "group" : "count",
                "{\"command\":\"scale\",\"group\":\"web\",\"count\":4}"), cancellationToken);
            return;
        }
        await connection.SendAsync(Responses.From(request.Id, await supervisor.ScaleAsync(request.Group, request.Count.Value)), cancellationToken);
    }
}
