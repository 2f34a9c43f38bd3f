using Clusterd.Supervision.Health;

namespace Clusterd.Tests.Supervision.Health;

public class MemoryHysteresisTests
{
    private const long Limit = 64 << 20;

    [Fact]
    public void Observe_ThreeSamplesInARowAbove_TripsOnTheThird()
    {
        var memory = new MemoryHysteresis();

        Assert.False(memory.Observe(Limit + 1, Limit));
        Assert.False(memory.Observe(Limit + 1, Limit));
        Assert.True(memory.Observe(Limit + 1, Limit));
    }

    [Fact]
    public void Observe_ASampleAtOrBelowTheLimit_StartsTheCountAgain()
    {
        var memory = new MemoryHysteresis();
        memory.Observe(Limit + 1, Limit);
        memory.Observe(Limit + 1, Limit);

        Assert.False(memory.Observe(Limit, Limit)); // at the limit is not above it
        Assert.False(memory.Observe(Limit + 1, Limit));
        Assert.False(memory.Observe(Limit + 1, Limit));
        Assert.True(memory.Observe(Limit + 1, Limit));
    }

    [Fact]
    public void Observe_StillAboveAfterTripping_TripsAgainOnlyAfterAnotherFullRun()
    {
        var memory = new MemoryHysteresis();
        var trips = Enumerable.Range(0, 7).Select(_ => memory.Observe(Limit * 2, Limit)).ToArray();

        Assert.Equal([false, false, true, false, false, true, false], trips);
    }
}
