using Clusterd.Config;
using Clusterd.Supervision;

namespace Clusterd.Hosting;

/// <summary>Told of every reload attempt (metrics count them).</summary>
internal interface IReloadListener
{
    void Reloaded(bool success);
}

/// <param name="ConfigErrors">Every error of a rejected file (<c>FILE:LINE:COL: ...</c>); then nothing changed.</param>
internal sealed record ReloadOutcome(IReadOnlyList<string> ConfigErrors, OperationResult? Result);

/// <summary>
/// The one reload path, for `clusterctl reload` and SIGHUP alike: read the file (off the loop), plan, tell the
/// service manager (RELOADING=1 ... READY=1), apply, count.
/// </summary>
internal sealed class Reloader(Supervisor supervisor, ServiceManagerReporter? reporter = null, IReloadListener? listener = null)
{
    public async Task<ReloadOutcome> ReloadAsync(bool dryRun, Func<OperationResult, Task>? onPlan = null)
    {
        var path = supervisor.Config?.Path ?? throw new InvalidOperationException("no configuration is loaded yet");
        var loaded = ConfigLoader.Load(path);
        if (loaded.Config is null)
        {
            if (!dryRun)
            {
                listener?.Reloaded(false);
            }
            return new ReloadOutcome(loaded.Errors.Select(e => e.ToString()).ToArray(), null);
        }
        var plan = await supervisor.ReloadAsync(loaded.Config, dryRun: true);
        if (dryRun || !plan.Ok)
        {
            if (!dryRun)
            {
                listener?.Reloaded(false);
            }
            return new ReloadOutcome([], plan);
        }
        if (onPlan is not null)
        {
            await onPlan(plan);
        }
        reporter?.Reloading();
        var result = await supervisor.ReloadAsync(loaded.Config, dryRun: false);
        reporter?.Reloaded();
        listener?.Reloaded(result.Ok);
        return new ReloadOutcome([], result);
    }
}
