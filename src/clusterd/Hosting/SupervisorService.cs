using System.Runtime.InteropServices;
using Clusterd.Config;
using Clusterd.Control;
using Clusterd.Supervision;
using Clusterd.Supervision.Upgrade;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Clusterd.Hosting;

/// <summary>
/// Runs the supervisor for the life of the host. The control socket is claimed first: a second clusterd on the
/// same socket must refuse to start before it binds or spawns anything. SIGHUP reloads, as `clusterctl reload` does;
/// SIGUSR2 upgrades clusterd in place, as `clusterctl upgrade` does (docs/adr/0008); after such an upgrade, the control
/// socket and everything else are taken over (<paramref name="adoption"/>) instead of bound.
/// On host stop, every worker is stopped before this returns.
/// </summary>
internal sealed partial class SupervisorService(
    ClusterConfig config,
    Supervisor supervisor,
    CommandDispatcher dispatcher,
    Reloader reloader,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<SupervisorService> logger,
    Upgrader upgrader,
    ServiceManagerReporter? reporter = null,
    UpgradeAdoption? adoption = null) : BackgroundService
{
    private ControlServer? _control;
    private PosixSignalRegistration? _sighup;
    private PosixSignalRegistration? _sigusr1;
    private PosixSignalRegistration? _sigusr2;
    private bool _running;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Stopped before the takeover is complete (a start failure, a crash of the loop): fall back, before anything is torn down.
        using var fallBackOnStop = adoption is null ? default
            : lifetime.ApplicationStopping.Register(() => FallBackIfTaking("it stopped before it had taken over (its log says why)"));
        try
        {
            _control = adoption is null
                ? ControlServer.Start(config.Control, dispatcher, time, logger)
                : ControlServer.Adopt(adoption.State.ControlFd, config.Control, dispatcher, time, logger);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
        {
            Fail($"control socket: {e.Message}");
            return;
        }
        LogControlSocket(_control.Path);
        _sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true; // the default would terminate clusterd
            _ = ReloadOnSignalAsync();
        });
        // SIGUSR1 reopens the worker log files, after an external logrotate moved them (docs/logging.md).
        if (SignalNames.TryParse("SIGUSR1", out var sigusr1, out _))
        {
            _sigusr1 = PosixSignalRegistration.Create((PosixSignal)sigusr1, context =>
            {
                context.Cancel = true; // the default would terminate clusterd
                var reopened = supervisor.ReopenLogFiles();
                LogReopenSignal(reopened);
            });
        }
        upgrader.Control = _control;
        if (SignalNames.TryParse("SIGUSR2", out var sigusr2, out _))
        {
            _sigusr2 = PosixSignalRegistration.Create((PosixSignal)sigusr2, context =>
            {
                context.Cancel = true; // the default would terminate clusterd
                _ = UpgradeOnSignalAsync();
            });
        }
        _running = true;
        reporter?.Start();
        await base.StartAsync(cancellationToken);
        try
        {
            await supervisor.Running.WaitAsync(cancellationToken);
            _control.Accept();
            adoption?.Complete(); // everything is taken over and served: a failure from now on is not a fallback
            // Hold the host's start (and so SystemdLifetime's READY=1) until the workers are ready: Type=notify then
            // means "serving", and `systemctl start` returns when it is true.
            await supervisor.Started.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Asked to stop (SIGTERM, Ctrl-C) before the workers were ready. A start that threw would make the host skip
            // StopAsync, and every worker would die with clusterd instead of getting its stop signal: finish the start,
            // and the host goes straight on to stopping.
            return;
        }
        // Spawning every worker was the biggest allocation burst clusterd will see; an idle daemon runs no GC
        // that would give back the regions it left committed, so compact and decommit once, now (BENCHMARKS.md).
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        reporter?.Started();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await supervisor.RunAsync(config, CancellationToken.None, adoption);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException
            || adoption is { Pending: true }) // anything at all, while taking over: Fail falls back
        {
            Fail(e.Message);
        }
    }

    private void Fail(string reason)
    {
        LogStartFailed(reason);
        FallBackIfTaking($"cannot start: {reason}");
        Environment.ExitCode = 1;
        lifetime.StopApplication();
    }

    /// <summary>After an in-place upgrade, until the takeover is complete: a failure execs the old binary, which takes the state back (docs/adr/0008).</summary>
    private void FallBackIfTaking(string reason)
    {
        if (adoption is { Pending: true })
        {
            adoption.FallBack(reason);
        }
    }

    private async Task ReloadOnSignalAsync()
    {
        LogReloadSignal();
        try
        {
            await reloader.ReloadAsync(dryRun: false); // it logs the outcome
        }
        catch (Exception e)
        {
            LogReloadCrashed(e); // nobody awaits this task: say so here, or nobody ever would
        }
    }

    private async Task UpgradeOnSignalAsync()
    {
        LogUpgradeSignal();
        try
        {
            var result = await upgrader.UpgradeAsync(binary: null, checkedOut: null, CancellationToken.None); // only if it did not happen
            LogUpgradeNotDone(result.Message);
        }
        catch (Exception e)
        {
            LogUpgradeCrashed(e); // nobody awaits this task: say so here, or nobody ever would
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        reporter?.Stopping();
        _sighup?.Dispose();
        _sigusr1?.Dispose();
        _sigusr2?.Dispose();
        if (_control is not null)
        {
            await _control.DisposeAsync();
        }
        if (_running)
        {
            supervisor.RequestStop();
            await supervisor.Stopped.WaitAsync(cancellationToken);
        }
        await base.StopAsync(cancellationToken); // the container disposes the supervisor (sockets, notify socket) after this
    }

    [LoggerMessage(EventId = 3, Level = LogLevel.Critical, Message = "cannot start: {Reason}")]
    private partial void LogStartFailed(string reason);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "control socket: {Path}")]
    private partial void LogControlSocket(string path);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "SIGHUP: reloading the configuration")]
    private partial void LogReloadSignal();

    [LoggerMessage(EventId = 203, Level = LogLevel.Information, Message = "SIGUSR1: reopening {Count} worker log files")]
    private partial void LogReopenSignal(int count);

    [LoggerMessage(EventId = 17, Level = LogLevel.Error, Message = "reload on SIGHUP failed unexpectedly; nothing more was changed. This probably indicates a bug in clusterd")]
    private partial void LogReloadCrashed(Exception e);

    [LoggerMessage(EventId = 67, Level = LogLevel.Information, Message = "SIGUSR2: upgrading clusterd in place to its binary on disk")]
    private partial void LogUpgradeSignal();

    [LoggerMessage(EventId = 68, Level = LogLevel.Error, Message = "SIGUSR2: the upgrade did not happen: {Reason}")]
    private partial void LogUpgradeNotDone(string reason);

    [LoggerMessage(EventId = 69, Level = LogLevel.Error, Message = "SIGUSR2: the upgrade failed unexpectedly; this probably indicates a bug in clusterd")]
    private partial void LogUpgradeCrashed(Exception e);
}
