using Clusterd.Protocol;
using Clusterd.Supervision;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Clusterd.Hosting;

/// <summary>
/// <c>[container] exit_on_failed</c> (on by default in container mode): the first time a group reaches <c>failed</c>,
/// clusterd stops every group and exits with <see cref="ExitGroupFailed"/>, so an orchestrator that restarts crashed
/// containers sees the crash loop instead of a container that looks alive while serving nothing. The key is read from
/// the config in force, so a reload turns it on or off at once.
/// </summary>
internal sealed partial class ContainerLifetime(
    Supervisor supervisor, IHostApplicationLifetime lifetime, ILogger<ContainerLifetime> logger, bool containerMode) : IHostedService
{
    /// <summary>The exit status when a group failed (1 is an invalid config or a failed start).</summary>
    public const int ExitGroupFailed = 3;

    private int _exiting;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        supervisor.Published += OnPublished;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        supervisor.Published -= OnPublished;
        return Task.CompletedTask;
    }

    private void OnPublished(ClusterSnapshot snapshot)
    {
        // The setting first: a group's state is worked out from all its workers, and this runs after every event.
        if (supervisor.Config is not { } config || !(config.Container.ExitOnFailed ?? containerMode)
            || snapshot.Groups.FirstOrDefault(g => g.State == PublicGroupState.Failed) is not { } failed
            || Interlocked.Exchange(ref _exiting, 1) == 1)
        {
            return;
        }
        LogGroupFailed(failed.Name, ExitGroupFailed);
        Environment.ExitCode = ExitGroupFailed;
        // Off the supervisor loop, which publishes this: stopping the host waits for the loop to stop the workers.
        _ = Task.Run(lifetime.StopApplication);
    }

    [LoggerMessage(EventId = 41, Level = LogLevel.Critical, Message = "group {Group} failed: stopping every group and exiting with status {Status} ([container] exit_on_failed)")]
    private partial void LogGroupFailed(string group, int status);
}
