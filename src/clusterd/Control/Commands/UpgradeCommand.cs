using Clusterd.Protocol.Messages;
using Clusterd.Supervision.Upgrade;

namespace Clusterd.Control.Commands;

/// <summary>
/// Request <c>{"command":"upgrade","binary":"/usr/bin/clusterd"}</c> (<c>binary</c> optional: clusterd's own path).
/// Checks the binary (<c>BINARY --check-upgrade</c>); if it can take over, answers a first frame (<c>more</c>: true)
/// with the message <c>upgrading to VERSION</c>, and the exec then closes the connection: the client reconnects and
/// asks <c>version</c>. If the upgrade is refused or does not happen, the last frame carries why; nothing changed.
/// Admin only. <c>clusterctl upgrade [--binary PATH]</c>; SIGUSR2 to clusterd does the same with its own path.
/// </summary>
internal sealed class UpgradeCommand(Upgrader upgrader) : IControlCommand
{
    public string Name => Clusterd.Protocol.Messages.Commands.Upgrade;

    public async Task ExecuteAsync(Request request, ControlConnection connection, CancellationToken cancellationToken)
    {
        var result = await upgrader.UpgradeAsync(request.Binary,
            version => connection.SendAsync(Response.Success(request.Id, $"upgrading to {version}") with { More = true }, cancellationToken),
            cancellationToken);
        await connection.SendAsync(Responses.From(request.Id, result), cancellationToken);
    }
}
