using System.Net;
using System.Net.Sockets;
using Clusterd.Config;
using Clusterd.Tests.Platform;
using Clusterd.Tests.Sockets;

namespace Clusterd.Tests.Supervision;

/// <summary>
/// A dead worker's slot in a reuseport group (Supervisor.Steering.cs): which sockets its next process gets. Real
/// loopback sockets and BPF steering (root), fake processes.
/// </summary>
public sealed class SupervisorSteeringTests
{
    private static GroupConfig Group(int workers) => SupervisorHarness.Group(workers: workers) with
    {
        Sharing = SharingMode.ReusePort,
        Listen = [GroupListenersTests.Address($"127.0.0.1:{FreePort()}")],
    };

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    /// <summary>Past the dead worker's backoff (none for a serving worker's first death; backoff.initial otherwise).</summary>
    private static async Task RespawnAsync(SupervisorHarness h)
    {
        await h.SettleAsync();
        h.Time.Advance(TimeSpan.FromMilliseconds(100));
        await h.SettleAsync();
    }

    [Requires(RequiresAttribute.Root)]
    public async Task WorkerDies_AnotherReady_ItsSocketClosesAndTheNextProcessGetsItsOwn_WhichBecomesTheSlotsOnceReady()
    {
        await using var h = new SupervisorHarness(Group(workers: 2));
        await h.StartAllAsync();
        var dead = h.Launcher.Launched.Single(l => l.Worker.Slot == 1);

        h.Launcher.Exit(dead, FakeWorkerHost.KilledBy(9));
        await h.SettleAsync();

        Assert.True(dead.Listeners[0].SafeHandle.IsClosed, "the dead slot's socket stayed open: its queue waits there");
        await RespawnAsync(h);
        var next = h.Launcher.Launched[^1];
        Assert.Equal(1, next.Worker.Slot);
        Assert.NotSame(dead.Listeners[0], next.Listeners[0]);
        Assert.DoesNotContain(h.Supervisor.ListenerSockets, l => l.Socket == dead.Listeners[0]);

        await h.StartAllAsync(alreadyStarted: 2);

        Assert.Null(next.Worker.OwnSockets); // promoted: the slot's socket now
        Assert.Equal(2, h.Supervisor.ListenerSockets.Count);
        Assert.Contains(h.Supervisor.ListenerSockets, l => l.Socket == next.Listeners[0]);
    }

    [Requires(RequiresAttribute.Root)]
    public async Task WorkerDies_NoOtherWorker_TheNextProcessGetsTheSlotsSocket()
    {
        await using var h = new SupervisorHarness(Group(workers: 1));
        await h.StartAllAsync();
        var dead = h.Launcher.Launched[0];

        h.Launcher.Exit(dead, FakeWorkerHost.KilledBy(9));
        await RespawnAsync(h);

        Assert.NotSame(dead, h.Launcher.Launched[^1]);
        Assert.Same(dead.Listeners[0], h.Launcher.Launched[^1].Listeners[0]); // its queue waits for the replacement
        Assert.False(dead.Listeners[0].SafeHandle.IsClosed);
    }

    [Requires(RequiresAttribute.Root)]
    public async Task WorkerDies_TheOtherNotReadyYet_TheNextProcessGetsTheSlotsSocket()
    {
        await using var h = new SupervisorHarness(Group(workers: 2));
        await h.SettleAsync();
        var dead = h.Launcher.Launched.Single(l => l.Worker.Slot == 1);
        h.Launcher.Start(dead);
        await h.SettleAsync();

        h.Launcher.Exit(dead, FakeWorkerHost.KilledBy(9));
        await RespawnAsync(h);

        var next = h.Launcher.Launched[^1];
        Assert.NotSame(dead, next);
        Assert.Same(dead.Listeners[0], next.Listeners[0]);
    }
}
