using Clusterd.Config;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;
using Clusterd.Supervision;

namespace Clusterd.Control.Commands;

/// <summary>
/// Request <c>{"command":"signal","group":"web","slot":2,"signal":"HUP"}</c> (slot optional: every worker). The signal
/// goes to each worker's process group. <c>clusterctl signal GROUP[/SLOT] SIGNAL</c>.
/// </summary>
internal sealed class SignalCommand(Supervisor supervisor) : IControlCommand
{
    public string Name => Clusterd.Protocol.Messages.Commands.Signal;

    public async Task ExecuteAsync(Request request, ControlConnection connection, CancellationToken cancellationToken)
    {
        if (request.Group is null || request.Signal is null)
        {
            await connection.SendAsync(Responses.MissingField(request.Id, request.Group is null ? "group" : "signal",
                "{\"command\":\"signal\",\"group\":\"web\",\"signal\":\"HUP\"}"), cancellationToken);
            return;
        }
        if (!SignalNames.TryParse(request.Signal, out var number, out var name))
        {
            await connection.SendAsync(Response.Failure(request.Id, ErrorCodes.BadRequest,
                $"unknown signal '{request.Signal}'; use a name such as {string.Join(", ", SignalNames.Names.Take(6))}"), cancellationToken);
            return;
        }
        await connection.SendAsync(Responses.From(request.Id, await supervisor.SignalAsync(request.Group, request.Slot, number, name)), cancellationToken);
    }
}
