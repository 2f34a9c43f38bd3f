using Clusterd.Config;
using Microsoft.Extensions.Logging;

namespace Clusterd.Supervision;

/// <summary>Told of every reload: metrics count them; the service-manager reporter says RELOADING=1 ... READY=1.</summary>
internal interface IReloadListener
{
    /// <summary>The new configuration passed every check and is being applied.</summary>
    void Applying() { }

    /// <summary>The reload ended (<paramref name="success"/>: applied and every changed group rolled).</summary>
    void Reloaded(bool success);
}

/// <param name="ConfigErrors">Every error of a rejected file (<c>FILE:LINE:COL: ...</c>); then nothing changed.</param>
internal sealed record ReloadOutcome(IReadOnlyList<string> ConfigErrors, OperationResult? Result);

/// <summary>
/// The one reload path, for `clusterctl reload` and SIGHUP alike: read and check the file (off the loop), then let the
/// supervisor check the plan against what runs (a rollout under way, a sharing change, addresses that cannot be bound)
/// and, unless this is a dry run, apply it. A dry run answers exactly what the real reload would; a refused reload is
/// never announced to the service manager.
/// </summary>
internal sealed partial class Reloader(Supervisor supervisor, CommandLineOverrides overrides, IEnumerable<IReloadListener> listeners,
    ILogger<Reloader> logger)
{
    private readonly ILogger _logger = logger;

    /// <param name="onApplying">Told the plan once it passed every check, before the rollouts run (a client sees it early).</param>
    public async Task<ReloadOutcome> ReloadAsync(bool dryRun, Func<OperationResult, Task>? onApplying = null)
    {
        var path = supervisor.Config?.Path ?? throw new InvalidOperationException("no configuration is loaded yet");
        var loaded = ConfigLoader.Load(path, SystemHost.Facts());
        if (loaded.Config is null)
        {
            if (!dryRun)
            {
                foreach (var error in loaded.Errors)
                {
                    LogReloadError(error.ToString());
                }
                LogReloadRejected(loaded.Errors.Count);
            }
            Done(dryRun, success: false);
            return new ReloadOutcome(loaded.Errors.Select(e => e.ToString()).ToArray(), null);
        }
        var (accepted, applied) = supervisor.ReloadAsync(overrides.Apply(loaded.Config), dryRun);
        var plan = await accepted;
        if (!plan.Ok || dryRun)
        {
            if (!dryRun)
            {
                LogReloadFailed(plan.Message);
            }
            Done(dryRun, success: false);
            return new ReloadOutcome([], plan);
        }
        LogPlan(plan.Plan!);
        foreach (var listener in listeners)
        {
            listener.Applying();
        }
        if (onApplying is not null)
        {
            await onApplying(plan);
        }
        var result = await applied;
        if (result.Ok)
        {
            LogReloadDone(result.Message);
        }
        else
        {
            LogReloadFailed(result.Message);
        }
        Done(dryRun, result.Ok);
        return new ReloadOutcome([], result);
    }

    private void LogPlan(ConfigPlan plan)
    {
        var added = string.Join(", ", plan.Added.Select(g => g.Name).DefaultIfEmpty("-"));
        var removed = string.Join(", ", plan.Removed.DefaultIfEmpty("-"));
        var changed = string.Join("; ", plan.Changed.Select(c => $"{c.Config.Name}: {string.Join(", ", c.Changes)}").DefaultIfEmpty("-"));
        LogReloadPlan(added, removed, changed);
        foreach (var note in plan.Notes)
        {
            LogReloadNote(note);
        }
    }

    private void Done(bool dryRun, bool success)
    {
        if (dryRun)
        {
            return;
        }
        foreach (var listener in listeners)
        {
            listener.Reloaded(success);
        }
    }

    [LoggerMessage(EventId = 6, Level = LogLevel.Error, Message = "reload: {Error}")]
    private partial void LogReloadError(string error);

    [LoggerMessage(EventId = 7, Level = LogLevel.Error, Message = "reload rejected: {Count} error(s) in the configuration; nothing was changed")]
    private partial void LogReloadRejected(int count);

    [LoggerMessage(EventId = 8, Level = LogLevel.Information, Message = "reload plan: added {Added}; removed {Removed}; changed {Changed}")]
    private partial void LogReloadPlan(string added, string removed, string changed);

    [LoggerMessage(EventId = 18, Level = LogLevel.Warning, Message = "reload: {Note}")]
    private partial void LogReloadNote(string note);

    [LoggerMessage(EventId = 9, Level = LogLevel.Information, Message = "reload done: {Message}")]
    private partial void LogReloadDone(string message);

    [LoggerMessage(EventId = 15, Level = LogLevel.Error, Message = "reload failed: {Message}")]
    private partial void LogReloadFailed(string message);
}
