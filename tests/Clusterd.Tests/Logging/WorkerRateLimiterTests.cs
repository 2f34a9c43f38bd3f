using Clusterd.Config;
using Clusterd.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Clusterd.Tests.Logging;

public class WorkerRateLimiterTests
{
    private readonly CountingTime _time = new();
    private readonly List<long> _reports = [];

    private WorkerRateLimiter NewLimiter() => new(_time, (count, _) => _reports.Add(count));

    [Fact]
    public void TryTake_OverTheBurst_DropsUntilTheRateRefills()
    {
        var limiter = NewLimiter();
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
    public void TryTake_QuietAfterABurst_ReportsTheDropsWhenTheSecondEnds()
    {
        var limiter = NewLimiter();
        var limit = new LogRateLimit(LinesPerSecond: 1, Burst: 1);
        Assert.True(limiter.TryTake(limit, out _));
        for (var i = 0; i < 4; i++)
        {
            Assert.False(limiter.TryTake(limit, out _));
        }

        _time.Advance(TimeSpan.FromSeconds(0.9));
        Assert.Empty(_reports);
        _time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal([4L], _reports);
        _time.Advance(TimeSpan.FromSeconds(10)); // nothing more was dropped: nothing more to say
        Assert.Equal([4L], _reports);
        Assert.True(limiter.TryTake(limit, out var inline));
        Assert.Equal(0, inline);
    }

    [Fact]
    public void TryTake_ALineLetThroughFirst_CarriesTheReportAndTheTimerSaysNothing()
    {
        var limiter = NewLimiter();
        var limit = new LogRateLimit(LinesPerSecond: 2, Burst: 1);
        limiter.TryTake(limit, out _);
        _time.Advance(TimeSpan.FromSeconds(5)); // the last report is long past: the next drop's is due a second after it
        limiter.TryTake(limit, out _);
        Assert.False(limiter.TryTake(limit, out _));

        _time.Advance(TimeSpan.FromSeconds(0.5)); // one line's worth
        Assert.True(limiter.TryTake(limit, out var suppressed));
        _time.Advance(TimeSpan.FromSeconds(0.5));

        Assert.Equal(1, suppressed);
        Assert.Empty(_reports);
    }

    [Fact]
    public void TryTake_DropsRightAfterAReport_AreReportedAFullSecondAfterIt()
    {
        var limiter = NewLimiter();
        var limit = new LogRateLimit(LinesPerSecond: 2, Burst: 1);
        limiter.TryTake(limit, out _);
        _time.Advance(TimeSpan.FromSeconds(5));
        limiter.TryTake(limit, out _);
        limiter.TryTake(limit, out _); // dropped: its report is due 1 s from now
        _time.Advance(TimeSpan.FromSeconds(0.5));
        Assert.True(limiter.TryTake(limit, out var first)); // reported here, at 0.5 s
        Assert.False(limiter.TryTake(limit, out _));

        _time.Advance(TimeSpan.FromSeconds(0.5)); // the timer's first due time: only half a second since the report
        var early = _reports.Count;
        _time.Advance(TimeSpan.FromSeconds(0.5));

        Assert.Equal(1, first);
        Assert.Equal(0, early);
        Assert.Equal([1L], _reports);
    }

    [Fact]
    public void TryTake_NothingDropped_ArmsNoTimer()
    {
        var limiter = NewLimiter();
        var limit = new LogRateLimit(LinesPerSecond: 10, Burst: 10);

        for (var i = 0; i < 100; i++)
        {
            Assert.True(limiter.TryTake(limit, out _));
            _time.Advance(TimeSpan.FromSeconds(0.1));
        }

        Assert.Equal(0, _time.Timers);
    }

    private sealed class CountingTime : FakeTimeProvider
    {
        public int Timers { get; private set; }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Timers++;
            return base.CreateTimer(callback, state, dueTime, period);
        }
    }
}
