using Clusterd.Readiness;
using Microsoft.Extensions.Time.Testing;

namespace Clusterd.Tests.Readiness;

public sealed class LogBudgetTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void TryTake_OverTheCount_RefusesUntilTheIntervalPassesThenSaysHowManyWereHeldBack()
    {
        var budget = new LogBudget(_time, count: 2, TimeSpan.FromSeconds(10));

        var taken = Enumerable.Range(0, 5).Select(i => budget.TryTake(out _)).ToArray();
        _time.Advance(TimeSpan.FromSeconds(9));
        var beforeTheInterval = budget.TryTake(out _);
        _time.Advance(TimeSpan.FromSeconds(1));
        var after = budget.TryTake(out var heldBack);

        Assert.Equal([true, true, false, false, false], taken);
        Assert.False(beforeTheInterval);
        Assert.True(after);
        Assert.Equal(4L, heldBack);
    }
}
