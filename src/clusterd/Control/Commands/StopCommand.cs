using Clusterd.Protocol.Messages;
using Clusterd.Supervision;

namespace Clusterd.Control.Commands;

/// <summary>
/// Request <c>{"command":"stop","group":"web"}</c>. Stops every worker gracefully (stop_signal, stop_timeout, SIGKILL)
/// and keeps the group stopped; the response comes once all have exited. The sockets stay open.
/// <c>clusterctl stop GROUP</c>.
/// </summary>
internal sealed class StopCommand(Supervisor supervisor) : IControlCommand
{
    public string Name => Clusterd.Protocol.Messages.Commands.Stop;

    public async Task ExecuteAsync(Request request, ControlConnection connection, CancellationToken cancellationToken)
    {
        if (request.Group is null)
        {
            await connection.SendAsync(Responses.MissingField(request.Id, "group", "{\"command\":\"stop\",\"group\":\"web\"}"), cancellationToken);
            return;
        }
        await connection.SendAsync(Responses.From(request.Id, await supervisor.StopGroupAsync(request.Group)), cancellationToken);
    }
}
