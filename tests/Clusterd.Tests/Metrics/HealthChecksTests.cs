using Clusterd.Config;
using Clusterd.Metrics;
using Clusterd.Protocol;
using Clusterd.Supervision;
using Clusterd.Tests.Supervision;

namespace Clusterd.Tests.Metrics;

/// <summary>The answers of /livez, /readyz and /startupz: from snapshots, and from a supervisor loop on fake workers and time.</summary>
public class HealthChecksTests
{
    private static GroupSnapshot Group(string name, int desired, int ready, int required, bool stopped = false) =>
        new(name, desired, stopped, ready, 1, [], [], required, GroupConfig.WorkersFromConfig);

    private static ClusterSnapshot Snapshot(params GroupSnapshot[] groups) => new(DateTimeOffset.UnixEpoch, groups);

    [Fact]
    public void Ready_EveryGroupAtItsMinimum_PassesWithALinePerGroup()
    {
        var answer = HealthChecks.Ready(Snapshot(Group("web", 4, ready: 2, required: 2), Group("jobs", 1, 1, 1)), running: true, stopping: false);

        Assert.Equal(new HealthAnswer(true, "ready\nweb: ready: 2 of 4 workers ready, 2 needed\njobs: ready: 1 of 1 workers ready, 1 needed\n"), answer);
    }

    [Fact]
    public void Ready_OneGroupShort_FailsNamingIt()
    {
        var answer = HealthChecks.Ready(Snapshot(Group("web", 4, ready: 3, required: 4), Group("jobs", 1, 1, 1)), running: true, stopping: false);

        Assert.False(answer.Ok);
        Assert.Equal("not ready\nweb: not ready: 3 of 4 workers ready, 4 needed\njobs: ready: 1 of 1 workers ready, 1 needed\n", answer.Text);
    }

    [Fact]
    public void Ready_GroupStoppedByAnOperator_IsNotReady()
    {
        var answer = HealthChecks.Ready(Snapshot(Group("web", 2, ready: 0, required: 0, stopped: true)), running: true, stopping: false);

        Assert.False(answer.Ok);
        Assert.Contains("web: not ready: stopped by `clusterctl stop`", answer.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false, false, "not ready: clusterd is starting\n")]
    [InlineData(true, true, "not ready: clusterd is stopping\n")]
    [InlineData(false, true, "not ready: clusterd is stopping\n")]
    public void Ready_StartingOrStopping_FailsWhateverTheGroups(bool running, bool stopping, string text)
    {
        Assert.Equal(new HealthAnswer(false, text), HealthChecks.Ready(Snapshot(Group("web", 1, 1, 1)), running, stopping));
    }

    [Fact]
    public async Task Ready_RealLoop_FollowsMinReadyAndClusterctlStop()
    {
        await using var h = new SupervisorHarness(SupervisorHarness.Group(workers: 2) with { MinReady = 1 });
        var checks = new HealthChecks(h.Supervisor, h.Time, () => false);
        await h.SettleAsync();
        Assert.False(checks.Ready().Ok); // no worker ready yet

        await h.StartAllAsync();
        Assert.True(checks.Ready().Ok, checks.Ready().Text);
        Assert.Contains("web: ready: 2 of 2 workers ready, 1 needed", checks.Ready().Text, StringComparison.Ordinal);

        var stop = h.Supervisor.StopGroupAsync("web");
        await h.SettleAsync();
        foreach (var spec in h.Launcher.Launched)
        {
            h.Launcher.Exit(spec, FakeWorkerHost.KilledBy(15));
        }
        Assert.True((await stop.WaitAsync(TimeSpan.FromSeconds(10))).Ok);
        await h.SettleAsync();
        Assert.False(checks.Ready().Ok);
        Assert.Contains("stopped by `clusterctl stop`", checks.Ready().Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Started_RealLoop_PassesOnceTheWorkersFirstBecameReady()
    {
        await using var h = new SupervisorHarness(SupervisorHarness.Group(workers: 2));
        var checks = new HealthChecks(h.Supervisor, h.Time, () => false);
        await h.SettleAsync();
        Assert.Equal(new HealthAnswer(false, "starting: waiting for the groups' first workers to be ready\n"), checks.Started());

        await h.StartAllAsync();

        Assert.True(checks.Started().Ok);
        Assert.Equal(PublicGroupState.Running, h.Supervisor.Snapshot.Groups[0].State);
    }

    [Fact]
    public async Task Live_LoopAnswers_Passes()
    {
        await using var h = new SupervisorHarness(SupervisorHarness.Group());
        var checks = new HealthChecks(h.Supervisor, h.Time, () => false);

        Assert.Equal(new HealthAnswer(true, "ok: the supervisor loop answers\n"), await checks.LiveAsync().WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Live_LoopStuck_FailsAfterOneSecond_ThenPassesOnceItMovesAgain()
    {
        await using var h = new SupervisorHarness(SupervisorHarness.Group());
        var checks = new HealthChecks(h.Supervisor, h.Time, () => false);
        await h.SettleAsync();
        using var gate = new ManualResetEventSlim();
        var stuck = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Supervisor.Post(new CallbackEvent(() =>
        {
            stuck.SetResult();
            gate.Wait(TimeSpan.FromSeconds(30)); // the loop is busy: a handler that does not return
        }));
        await stuck.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var first = checks.LiveAsync();
        var second = checks.LiveAsync();
        Assert.False(first.IsCompleted);
        h.Time.Advance(HealthChecks.LivenessTimeout);

        Assert.Equal(new HealthAnswer(false, "the supervisor loop did not answer within 1s\n"), await first.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False((await second.WaitAsync(TimeSpan.FromSeconds(10))).Ok);
        gate.Set();
        await h.SettleAsync();
        Assert.True((await checks.LiveAsync().WaitAsync(TimeSpan.FromSeconds(10))).Ok);
    }
}
