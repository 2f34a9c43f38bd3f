using Clusterd.Protocol.Messages;
using Clusterd.Supervision;

namespace Clusterd.Control.Commands;

/// <summary>
/// Request <c>{"command":"start","group":"web"}</c>. Starts a stopped group, or a failed slot anew (its crash history
/// cleared); the response comes when every worker is ready, or names the slot that failed.
/// <c>clusterctl start GROUP</c>.
/// </summary>
internal sealed class StartCommand(Supervisor supervisor) : IControlCommand
{
    public string Name => Clusterd.Protocol.Messages.Commands.Start;

    public async Task ExecuteAsync(Request request, ControlConnection connection, CancellationToken cancellationToken)
    {
        if (request.Group is null)
        {
            await connection.SendAsync(Responses.MissingField(request.Id, "group", "{\"command\":\"start\",\"group\":\"web\"}"), cancellationToken);
            return;
        }
        await connection.SendAsync(Responses.From(request.Id, await supervisor.StartGroupAsync(request.Group)), cancellationToken);
    }
}
