using Clusterd.Protocol.Messages;

namespace Clusterd.Control.Commands;

/// <summary>
/// Request <c>{"command":"ping"}</c>; response <c>{"ok":true,"message":"pong"}</c>.
/// <c>clusterctl ping</c>.
/// </summary>
internal sealed class PingCommand : IControlCommand
{
    public string Name => Clusterd.Protocol.Messages.Commands.Ping;

    public Task ExecuteAsync(Request request, ControlConnection connection, CancellationToken cancellationToken) =>
        connection.SendAsync(Response.Success(request.Id, "pong"), cancellationToken);
}
