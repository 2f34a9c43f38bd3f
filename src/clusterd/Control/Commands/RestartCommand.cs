using Clusterd.Protocol.Messages;
using Clusterd.Supervision;

namespace Clusterd.Control.Commands;

/// <summary>
/// Request <c>{"command":"restart","group":"web"|"all","max_surge":1,"max_unavailable":0}</c>; the response comes when
/// the rollout ends: ok, or <c>failed</c> with the reason (the old workers of the slots not yet replaced keep serving).
/// <c>clusterctl restart GROUP|all [--max-surge N] [--max-unavailable N]</c>.
/// </summary>
internal sealed class RestartCommand(Supervisor supervisor) : IControlCommand
{
    public string Name => Clusterd.Protocol.Messages.Commands.Restart;

    public async Task ExecuteAsync(Request request, ControlConnection connection, CancellationToken cancellationToken)
    {
        if (request.Group is null)
        {
            await connection.SendAsync(Responses.MissingField(request.Id, "group", "{\"command\":\"restart\",\"group\":\"web\"} or \"all\""), cancellationToken);
            return;
        }
        var result = await supervisor.RestartAsync(request.Group, request.MaxSurge ?? 1, request.MaxUnavailable ?? 0);
        await connection.SendAsync(Responses.From(request.Id, result), cancellationToken);
    }
}
