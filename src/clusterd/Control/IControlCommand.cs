using Clusterd.Protocol.Messages;

namespace Clusterd.Control;

/// <summary>
/// One control command. Each lives in its own file under Commands/, whose doc comment gives the request, the
/// response and the clusterctl form (circus's layout). Execution only: parsing is the protocol's, rendering clusterctl's.
/// </summary>
internal interface IControlCommand
{
    string Name { get; }

    Task ExecuteAsync(Request request, ControlConnection connection, CancellationToken cancellationToken);
}
