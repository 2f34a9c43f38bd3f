using System.Net.Sockets;
using Clusterd.Config;
using Clusterd.Protocol;
using Clusterd.Sockets;
using Clusterd.Supervision;

namespace Clusterd.Tests.Supervision;

/// <summary>The supervisor loop with a fake launcher and fake time: faults injected where real ones are hard to cause.</summary>
public sealed class SupervisorTests
{
    private static PublicWorkerState StateOf(Supervisor s, string group = "web", int slot = 0) =>
        s.Snapshot.Groups.Single(g => g.Name == group).Workers.Single(w => w.Slot == slot).State;

    [Fact]
    public async Task Operation_AnsweredWhileMoreEventsAreQueued_SnapshotAlreadyShowsWhatItDid()
    {
        await using var h = new SupervisorHarness(SupervisorHarness.Group());
        await h.StartAllAsync();
        using var first = new ManualResetEventSlim();
        using var after = new ManualResetEventSlim();
        // Hold the loop so the scale and one more event are queued together: the loop publishes once per burst, and
        // the event behind the scale stays blocked until the answer has been checked.
        h.Supervisor.Post(new CallbackEvent(() => first.Wait(TimeSpan.FromSeconds(10))));
        var scaled = h.Supervisor.ScaleAsync("web", 3);
        h.Supervisor.Post(new CallbackEvent(() => after.Wait(TimeSpan.FromSeconds(60))));
        first.Set();

        var result = await scaled.WaitAsync(TimeSpan.FromSeconds(10));
        var desired = h.Supervisor.Snapshot.Groups.Single().Desired;
        after.Set();

        Assert.True(result.Ok, result.Message);
        Assert.Equal(3, desired);
    }

    [Fact]
    public async Task Launch_Throws_TheSlotBacksOffAndIsRetried_AndTheLoopCarriesOn()
    {
        await using var h = new SupervisorHarness(SupervisorHarness.Group());
        await h.SettleAsync();
        // The first launch failed before the fault could be set: fault from now on, then heal.
        h.Launcher.Fault = _ => new InvalidOperationException("the launcher broke");
        await h.StartAllAsync();
        h.Launcher.Exit(h.Launcher.Launched[0], FakeWorkerHost.KilledBy(9));
        await h.SettleAsync();
        h.Time.Advance(TimeSpan.FromMilliseconds(100)); // backoff.initial: the restart's launch throws
        await h.SettleAsync();
        Assert.Equal(PublicWorkerState.Backoff, StateOf(h.Supervisor));

        h.Launcher.Fault = null;
        h.Time.Advance(TimeSpan.FromSeconds(1));
        await h.SettleAsync();

        Assert.Equal(2, h.Launcher.Launched.Count);
        Assert.Contains(h.Supervisor.Journal.Since(0), e => e.Kind == LifecycleEventKinds.Exit && e.Reason == ExitReasons.ExecFailed);
    }

    [Fact]
    public async Task Spawned_AfterTheSlotGaveUpOnThatSpawn_TheLateProcessIsKilled()
    {
        await using var h = new SupervisorHarness(SupervisorHarness.Group());
        await h.SettleAsync();
        var stuck = h.Launcher.Launched.Single();

        h.Time.Advance(TimeSpan.FromSeconds(30)); // ready_timeout with no process: the slot gives up on the spawn
        await h.SettleAsync();
        Assert.Equal(PublicWorkerState.Backoff, StateOf(h.Supervisor));
        var late = h.Launcher.Start(stuck);
        await h.SettleAsync();

        Assert.Equal([9], late.Signals);
        Assert.Equal(PublicWorkerState.Backoff, StateOf(h.Supervisor));
    }

    [Fact]
    public async Task Operation_ThatThrows_IsAnsweredAsAnInternalError_AndTheLoopCarriesOn()
    {
        await using var h = new SupervisorHarness(new ThrowingSocketSource(), SupervisorHarness.Group());
        await h.StartAllAsync();
        Assert.True(ListenAddressParser.TryParse("127.0.0.1:1", isWorkerListener: true, out var address, out _));
        var next = new ClusterConfig("test.toml", new ControlConfig(null, null, null, null), new MetricsConfig(null),
            [SupervisorHarness.Group(), SupervisorHarness.Group("api") with { Listen = [address!] }], ContainerConfig.Default);

        var reload = await h.Supervisor.ReloadAsync(next, dryRun: false).Applied.WaitAsync(TimeSpan.FromSeconds(10));
        var scale = await h.Supervisor.ScaleAsync("web", 2).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal((false, ErrorCodes.Internal), (reload.Ok, reload.Code));
        Assert.Contains("this probably indicates a bug in clusterd", reload.Message, StringComparison.Ordinal);
        Assert.True(scale.Ok, scale.Message);
        Assert.Equal(["web"], h.Supervisor.Snapshot.Groups.Select(g => g.Name));
    }

    [Fact]
    public async Task Burst_OfForksAndExits_IsFollowedByOneCompaction_OnceTheWorkersHaveSettled()
    {
        await using var h = new SupervisorHarness(SupervisorHarness.Group(workers: 0));
        var compactions = 0;
        h.Supervisor.CompactMemory = () => compactions++;
        await h.SettleAsync();

        Assert.True((await h.Supervisor.ScaleAsync("web", 100)).Ok);
        await h.StartAllAsync();
        h.Time.Advance(TimeSpan.FromSeconds(1)); // still within the settle time after the last fork
        await h.SettleAsync();
        Assert.Equal(0, compactions);
        h.Time.Advance(TimeSpan.FromSeconds(2));
        await h.SettleAsync();
        Assert.Equal(1, compactions);

        h.Time.Advance(TimeSpan.FromSeconds(10)); // idle: nothing more to give back
        await h.SettleAsync();
        Assert.Equal(1, compactions);
    }

    [Fact]
    public async Task FewForks_AreNotABurst()
    {
        await using var h = new SupervisorHarness(SupervisorHarness.Group(workers: 3));
        var compactions = 0;
        h.Supervisor.CompactMemory = () => compactions++;
        await h.StartAllAsync();

        h.Time.Advance(TimeSpan.FromSeconds(10));
        await h.SettleAsync();

        Assert.Equal(0, compactions);
    }

    /// <summary>A service manager's socket store with a bug in it.</summary>
    private sealed class ThrowingSocketSource : ISocketSource
    {
        public Socket? Adopt(string group, ListenAddress address, int? slot, bool reusePort) =>
            throw new InvalidOperationException("the socket source broke");

        public void Opened(string group, ListenAddress address, int? slot, Socket socket)
        {
        }

        public void Closed(string group, ListenAddress address, int? slot)
        {
        }

        public IReadOnlyList<string> CloseUnclaimed() => [];
    }
}
