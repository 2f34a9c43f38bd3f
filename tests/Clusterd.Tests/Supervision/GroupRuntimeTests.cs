using Clusterd.Sockets;
using Clusterd.Supervision;

namespace Clusterd.Tests.Supervision;

public sealed class GroupRuntimeTests
{
    private static GroupRuntime Group(int workers) =>
        new(FakeWorkerHost.Group() with { Workers = workers }, GroupListeners.Bind(FakeWorkerHost.Group()), generation: 1);

    [Fact]
    public void AllWorkersBySlot_NothingInFlight_IsTheSlotsThemselves()
    {
        var group = Group(3);

        Assert.Same(group.Workers, group.AllWorkersBySlot);
        Assert.Equal([0, 1, 2], group.AllWorkersBySlot.Select(w => w.Slot));
    }

    [Fact]
    public void AllWorkersBySlot_SurgeAndRetiring_BySlotThenCurrentSurgeRetiring()
    {
        var group = Group(3);
        var surge = new Worker(group, 2);
        var retiringFirst = new Worker(group, 0);
        var retiringLast = new Worker(group, 4);
        group.Surge.Add(surge);
        group.Retiring.Add(retiringLast);
        group.Retiring.Add(retiringFirst);

        Assert.Equal([group.Workers[0], retiringFirst, group.Workers[1], group.Workers[2], surge, retiringLast], group.AllWorkersBySlot);
        Assert.Equal(group.AllWorkers.OrderBy(w => w.Slot), group.AllWorkersBySlot);
    }
}
