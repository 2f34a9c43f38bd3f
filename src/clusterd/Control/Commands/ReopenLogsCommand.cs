using Clusterd.Protocol.Messages;
using Clusterd.Supervision;

namespace Clusterd.Control.Commands;

/// <summary>
/// Request <c>{"command":"reopen_logs"}</c>: every worker log file is closed and opened again (created anew if an
/// external logrotate moved it away) before its next line, as on SIGUSR1. <c>clusterctl logs --reopen</c>.
/// </summary>
internal sealed class ReopenLogsCommand(Supervisor supervisor) : IControlCommand
{
    public string Name => Clusterd.Protocol.Messages.Commands.ReopenLogs;

    public Task ExecuteAsync(Request request, ControlConnection connection, CancellationToken cancellationToken)
    {
        var count = supervisor.ReopenLogFiles();
        return connection.SendAsync(Response.Success(request.Id, $"reopening {count} log file(s) before their next line"), cancellationToken);
    }
}
