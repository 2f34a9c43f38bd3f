using Clusterd.Config;
using Clusterd.Supervision;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Clusterd.Hosting;

/// <summary>Runs the supervisor for the life of the host; on host stop, stops every worker before returning.</summary>
internal sealed partial class SupervisorService(
    ClusterConfig config,
    Supervisor supervisor,
    IHostApplicationLifetime lifetime,
    ILogger<SupervisorService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await supervisor.RunAsync(config, CancellationToken.None);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
        {
            LogStartFailed(e.Message);
            Environment.ExitCode = 1;
            lifetime.StopApplication();
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        supervisor.RequestStop();
        await supervisor.Stopped.WaitAsync(cancellationToken);
        await base.StopAsync(cancellationToken); // the container disposes the supervisor (sockets, notify socket) after this
    }

    [LoggerMessage(EventId = 3, Level = LogLevel.Critical, Message = "cannot start: {Reason}")]
    private partial void LogStartFailed(string reason);
}
