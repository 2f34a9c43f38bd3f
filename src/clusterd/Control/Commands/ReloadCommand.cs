using Clusterd.Config;
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
internal sealed class ReloadCommand(Supervisor supervisor, IReloadListener? listener = null) : IControlCommand
{
    public string Name => Clusterd.Protocol.Messages.Commands.Reload;

    public async Task ExecuteAsync(Request request, ControlConnection connection, CancellationToken cancellationToken)
    {
        var (errors, next) = Load(supervisor);
        if (next is null)
        {
            listener?.Reloaded(false);
            await connection.SendAsync(Response.Failure(request.Id, ErrorCodes.InvalidConfig,
                $"{errors.Count} error(s) in {supervisor.Config?.Path}; nothing was changed") with { ConfigErrors = errors }, cancellationToken);
            return;
        }
        var plan = await supervisor.ReloadAsync(next, dryRun: true);
        if (request.DryRun || !plan.Ok)
        {
            await connection.SendAsync(Responses.From(request.Id, plan), cancellationToken);
            return;
        }
        await connection.SendAsync(Responses.From(request.Id, plan) with { More = true, Message = "applying" }, cancellationToken);
        var result = await supervisor.ReloadAsync(next, dryRun: false);
        listener?.Reloaded(result.Ok);
        await connection.SendAsync(Responses.From(request.Id, result), cancellationToken);
    }

    /// <summary>Reads the file the running configuration came from; off the supervisor loop, which never does I/O like this.</summary>
    public static (IReadOnlyList<string> Errors, ClusterConfig? Config) Load(Supervisor supervisor)
    {
        var path = supervisor.Config?.Path ?? throw new InvalidOperationException("no configuration is loaded yet");
        var result = ConfigLoader.Load(path);
        return (result.Errors.Select(e => e.ToString()).ToArray(), result.Config);
    }
}

/// <summary>Told of every reload attempt (metrics count them).</summary>
internal interface IReloadListener
{
    void Reloaded(bool success);
}
