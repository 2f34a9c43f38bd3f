using System.Collections.Concurrent;
using System.Globalization;
using Clusterd.Config;
using Clusterd.Protocol;
using Clusterd.Supervision;

namespace Clusterd.Tests.Supervision;

/// <summary>Recycles (Supervisor.Health.cs) on fake time: max_lifetime's timers, one replacement per group at a time.</summary>
public class SupervisorHealthTests
{
    private static readonly TimeSpan s_lifetime = TimeSpan.FromMinutes(1);

    private static GroupConfig Group(int workers) => SupervisorHarness.Group(workers: workers) with
    {
        Health = WorkerHealthConfig.None with { MaxLifetime = s_lifetime },
    };

    /// <summary>Past max_lifetime plus its greatest jitter, counted from the spawn.</summary>
    private static TimeSpan PastLifetime => (s_lifetime * (1 + Supervisor.MaxLifetimeJitter)) + TimeSpan.FromSeconds(1);

    [Fact]
    public async Task MaxLifetime_TwoWorkersDue_ReplacesOneAtATime_EachExitingWithMaxLifetime()
    {
        await using var h = new SupervisorHarness(Group(workers: 2));
        var old = await h.StartAllAsync();

        h.Time.Advance(PastLifetime);
        await h.SettleAsync();

        Assert.Equal(3, h.Launcher.Launched.Count); // one replacement; the other slot waits its turn
        var replacements = await h.StartAllAsync(alreadyStarted: 2); // ready: it takes the slot, the old worker drains
        h.Time.Advance(FakeWorkerHost.Group().DrainDelay);
        await h.SettleAsync();
        var retired = Assert.Single(old, p => p.Signals.Contains(15));
        Assert.Equal(3, h.Launcher.Launched.Count); // the first old worker is still there: no second replacement yet

        h.Launcher.Exit(h.Launcher.Launched[old.IndexOf(retired)], FakeWorkerHost.KilledBy(15));
        await h.SettleAsync();

        Assert.Contains(h.Supervisor.Journal.Since(0), e => e is { Kind: LifecycleEventKinds.Exit, Reason: ExitReasons.MaxLifetime } && e.Pid == retired.Pid);
        Assert.Equal(4, h.Launcher.Launched.Count); // now the other slot's turn
        Assert.Empty(replacements[0].Signals);
    }

    [Fact]
    public async Task Restart_WhileAWorkerIsBeingReplaced_IsBusy()
    {
        await using var h = new SupervisorHarness(Group(workers: 1));
        await h.StartAllAsync();
        h.Time.Advance(PastLifetime);
        await h.SettleAsync();

        var result = await h.Supervisor.RestartAsync("web", maxSurge: 1, maxUnavailable: 0);

        Assert.Equal(ErrorCodes.Busy, result.Code);
        Assert.Contains("being replaced", result.Message);
    }

    [Fact]
    public async Task CommandCheck_FailingInARow_ReplacesTheWorker_AndEachRunIsToldWhichWorkerItChecks()
    {
        var check = new HealthCheckConfig(HealthCheckKind.Command, null, ["/usr/local/bin/check", "--quick"], TimeSpan.FromSeconds(1),
            TimeSpan.FromMilliseconds(500), Failures: 2, StartPeriod: TimeSpan.Zero);
        await using var h = new SupervisorHarness(SupervisorHarness.Group() with { Health = WorkerHealthConfig.None with { Check = check } });
        var runs = new ConcurrentQueue<LaunchSpec>();
        h.Launcher.CheckResult = spec =>
        {
            runs.Enqueue(spec);
            return "exit code 1";
        };
        var old = Assert.Single(await h.StartAllAsync());

        // Each interval's check is posted to the loop from the probe's own task: step until the replacement starts.
        for (var i = 0; i < 100 && h.Launcher.Launched.Count < 2; i++)
        {
            h.Time.Advance(check.Interval);
            await h.SettleAsync();
        }

        Assert.Equal(2, h.Launcher.Launched.Count);
        Assert.All(runs, run =>
        {
            Assert.Equal(check.Command, run.Argv);
            Assert.Empty(run.Listeners);
            Assert.Equal(old.Pid.ToString(CultureInfo.InvariantCulture), run.Contract[ReservedEnvironment.WorkerPid]);
            Assert.Equal(("web", "0"), (run.Contract[ReservedEnvironment.Group], run.Contract[ReservedEnvironment.Worker]));
        });
        Assert.DoesNotContain(ReservedEnvironment.ListenFdNames, h.Launcher.Launched[0].Contract.Keys); // no health socket for a command
    }

    [Fact]
    public async Task MaxLifetime_Zero_NeverReplaces()
    {
        await using var h = new SupervisorHarness(SupervisorHarness.Group(workers: 1));
        await h.StartAllAsync();

        h.Time.Advance(TimeSpan.FromDays(1));
        await h.SettleAsync();

        Assert.Single(h.Launcher.Launched);
    }
}
