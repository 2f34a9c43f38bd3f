using System.Globalization;
using System.Text;
using Clusterd.Supervision;

namespace Clusterd.Metrics;

/// <summary>One probe's answer: whether it passed, and a plain-text reason (one line per group for readiness).</summary>
internal readonly record struct HealthAnswer(bool Ok, string Text);

/// <summary>
/// What the health endpoints answer (docs/metrics.md, "Health endpoints"), with Kubernetes' meaning for each probe:
/// <list type="bullet">
/// <item><b>live</b>: the supervisor loop handles an event within <see cref="LivenessTimeout"/>. A loop that does not
/// can restart nothing, and only a restart of clusterd helps.</item>
/// <item><b>ready</b>: every group has at least its <c>min_ready</c> workers ready, and clusterd is neither starting nor
/// stopping. A group stopped by <c>clusterctl stop</c> is not ready: it serves nothing.</item>
/// <item><b>started</b>: every group first became ready, or settled with a failed slot: when clusterd would tell systemd
/// READY=1.</item>
/// </list>
/// </summary>
internal sealed class HealthChecks(Supervisor supervisor, TimeProvider time, Func<bool> stopping)
{
    public static readonly TimeSpan LivenessTimeout = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();
    private Task? _probe;

    /// <summary>
    /// Posts a no-op to the loop and waits for it. Probes that arrive while one is in flight share it, so a stuck loop
    /// gets one event, not one per probe.
    /// </summary>
    public async Task<HealthAnswer> LiveAsync()
    {
        Task probe;
        lock (_lock)
        {
            if (_probe is null)
            {
                var ran = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _probe = ran.Task;
                supervisor.Post(new CallbackEvent(() =>
                {
                    lock (_lock)
                    {
                        _probe = null;
                    }
                    ran.TrySetResult();
                }));
            }
            probe = _probe;
        }
        try
        {
            await probe.WaitAsync(LivenessTimeout, time);
            return new HealthAnswer(true, "ok: the supervisor loop answers\n");
        }
        catch (TimeoutException)
        {
            return new HealthAnswer(false, $"the supervisor loop did not answer within {LivenessTimeout.TotalSeconds:0}s\n");
        }
    }

    public HealthAnswer Ready() => Ready(supervisor.Snapshot, supervisor.Running.IsCompleted, stopping());

    public HealthAnswer Started() => supervisor.Started.IsCompleted
        ? new HealthAnswer(true, "started: every group became ready or settled\n")
        : new HealthAnswer(false, "starting: waiting for the groups' first workers to be ready\n");

    /// <summary>The readiness answer for a snapshot: pure, for tests.</summary>
    public static HealthAnswer Ready(ClusterSnapshot snapshot, bool running, bool stopping)
    {
        if (stopping)
        {
            return new HealthAnswer(false, "not ready: clusterd is stopping\n");
        }
        if (!running)
        {
            return new HealthAnswer(false, "not ready: clusterd is starting\n");
        }
        var text = new StringBuilder();
        var ready = true;
        foreach (var g in snapshot.Groups)
        {
            if (g.Stopped)
            {
                ready = false;
                text.Append(CultureInfo.InvariantCulture, $"{g.Name}: not ready: stopped by `clusterctl stop` (`clusterctl start {g.Name}` starts it)\n");
                continue;
            }
            var ok = g.Ready >= g.RequiredReady;
            ready &= ok;
            text.Append(CultureInfo.InvariantCulture,
                $"{g.Name}: {(ok ? "ready" : "not ready")}: {g.Ready} of {g.Desired} workers ready, {g.RequiredReady} needed\n");
        }
        return new HealthAnswer(ready, (ready ? "ready\n" : "not ready\n") + text);
    }
}
