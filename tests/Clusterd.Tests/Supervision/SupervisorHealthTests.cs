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
    public async Task MaxLifetime_Zero_NeverReplaces()
    {
        await using var h = new SupervisorHarness(SupervisorHarness.Group(workers: 1));
        await h.StartAllAsync();

        h.Time.Advance(TimeSpan.FromDays(1));
        await h.SettleAsync();

        Assert.Single(h.Launcher.Launched);
    }
}
