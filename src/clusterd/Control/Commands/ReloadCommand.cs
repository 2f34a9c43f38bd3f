using Clusterd.Protocol;
using Clusterd.Protocol.Messages;
using Clusterd.Supervision;

namespace Clusterd.Control.Commands;

/// <summary>
/// Request <c>{"command":"reload","dry_run":false}</c>. Re-reads the configuration file. If it has errors, the response is
/// <c>invalid_config</c> with every error in <c>config_errors</c> and nothing changes. Otherwise a first frame carries the
/// plan (<c>more</c>: true), and the last one the outcome once every changed group has rolled. With <c>dry_run</c>, only the plan.
/// <c>clusterctl reload [--dry-run]</c>; SIGHUP to clusterd does the same.
/// </summary>
internal sealed class ReloadCommand(Supervisor supervisor, Reloader reloader) : IControlCommand
{
    public string Name => Clusterd.Protocol.Messages.Commands.Reload;

    public async Task ExecuteAsync(Request request, ControlConnection connection, CancellationToken cancellationToken)
    {
        var outcome = await reloader.ReloadAsync(request.DryRun, plan =>
            connection.SendAsync(Responses.From(request.Id, plan) with { More = true, Message = "applying" }, cancellationToken));
        if (outcome.Result is null)
        {
            await connection.SendAsync(Response.Failure(request.Id, ErrorCodes.InvalidConfig,
                $"{outcome.ConfigErrors.Count} error(s) in {supervisor.Config?.Path}; nothing was changed") with { ConfigErrors = outcome.ConfigErrors }, cancellationToken);
            return;
        }
        await connection.SendAsync(Responses.From(request.Id, outcome.Result), cancellationToken);
    }
}
