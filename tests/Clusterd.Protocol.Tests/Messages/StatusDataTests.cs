using Clusterd.Protocol.Messages;

namespace Clusterd.Protocol.Tests.Messages;

public sealed class StatusDataTests
{
    private static WorkerStatus Worker(int slot) => new(slot, 100 + slot, PublicWorkerState.Ready, 1, 0, 1, null, null, null, null, null, null);

    private static GroupStatus Group(string name, params int[] slots) =>
        new(name, 3, 3, PublicGroupState.Running, 1, [], [.. slots.Select(Worker)]);

    [Fact]
    public void Join_AGroupSplitBetweenPages_IsOneGroupWithEveryWorkerInOrder()
    {
        var joined = StatusData.Join([new StatusData([Group("a", 0), Group("web", 0, 1)]), new StatusData([Group("web", 2), Group("z")])]);

        Assert.Equal(["a", "web", "z"], joined.Groups.Select(g => g.Name));
        Assert.Equal([0, 1, 2], joined.Groups[1].Workers.Select(w => w.Slot));
    }

    [Fact]
    public void Join_OnePage_IsThatPage()
    {
        var page = new StatusData([Group("web", 0, 1), Group("jobs", 0)]);

        var joined = StatusData.Join([page]);

        Assert.Equal(page.Groups, joined.Groups);
    }
}
