using Clusterd.Config;
using Clusterd.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Clusterd.Tests.Logging;

public class WorkerRateLimiterTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void TryTake_OverTheBurst_DropsUntilTheRateRefills()
    {
        var limiter = new WorkerRateLimiter(_time);
        var limit = new LogRateLimit(LinesPerSecond: 2, Burst: 3);

        var taken = Enumerable.Range(0, 5).Select(_ => limiter.TryTake(limit, out long _)).ToArray();
        _time.Advance(TimeSpan.FromSeconds(0.5)); // one line's worth
        var afterHalfASecond = limiter.TryTake(limit, out _);
        var overAgain = limiter.TryTake(limit, out _);

        Assert.Equal([true, true, true, false, false], taken);
        Assert.True(afterHalfASecond);
        Assert.False(overAgain);
    }

    [Fact]
    public void TryTake_AfterSuppressing_ReportsTheCountOnceASecond()
    {
        var limiter = new WorkerRateLimiter(_time);
        var limit = new LogRateLimit(LinesPerSecond: 1, Burst: 1);
        limiter.TryTake(limit, out _);
        for (var i = 0; i < 4; i++)
        {
            Assert.False(limiter.TryTake(limit, out _));
        }

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(limiter.TryTake(limit, out var suppressed));
        Assert.False(limiter.TryTake(limit, out _));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(limiter.TryTake(limit, out var next));

        Assert.Equal(4, suppressed);
        Assert.Equal(1, next);
    }
}
