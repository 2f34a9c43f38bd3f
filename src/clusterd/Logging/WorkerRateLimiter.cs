using Clusterd.Config;

namespace Clusterd.Logging;

/// <summary>
/// One worker slot's <c>rate_limit</c>: a token bucket of <c>burst</c> lines refilled at the rate. Both pipe readers
/// of a worker share it. Lines over the limit are counted and reported, at most once a second, by one line that says
/// how many were suppressed (journald's "Suppressed N messages"): before the next line let through if that comes
/// first, else when the second is over, so a worker that goes quiet after a burst still has its drops reported.
/// </summary>
/// <param name="report">Told the count (and the limit it went over) when the second ends with lines suppressed; on a timer thread.</param>
internal sealed class WorkerRateLimiter(TimeProvider time, Action<long, LogRateLimit> report)
{
    private static readonly TimeSpan s_reportInterval = TimeSpan.FromSeconds(1);

    private readonly Lock _lock = new();
    private double _tokens = double.NaN; // full on first use, with that moment's burst
    private long _refilledAt;
    private long _suppressed;
    private long _reportedAt;
    private LogRateLimit? _limit;
    private ITimer? _timer; // armed only while suppressed lines wait to be reported

    /// <param name="suppressed">Lines dropped since the last report, when it is time to report them; else 0.</param>
    public bool TryTake(LogRateLimit limit, out long suppressed)
    {
        suppressed = 0;
        var now = time.GetTimestamp();
        lock (_lock)
        {
            _limit = limit;
            if (double.IsNaN(_tokens))
            {
                _tokens = limit.Burst;
                _refilledAt = _reportedAt = now;
            }
            var elapsed = time.GetElapsedTime(_refilledAt, now).TotalSeconds;
            _tokens = Math.Min(limit.Burst, _tokens + (elapsed * limit.LinesPerSecond));
            _refilledAt = now;
            if (_tokens < 1)
            {
                _suppressed++;
                // The first drop since a report: due when the second since the last report ends, or a second from now.
                _timer ??= time.CreateTimer(static s => ((WorkerRateLimiter)s!).ReportDue(), this,
                    Remaining(now) is { Ticks: > 0 } left ? left : s_reportInterval, Timeout.InfiniteTimeSpan);
                return false;
            }
            _tokens--;
            if (_suppressed > 0 && Remaining(now) == TimeSpan.Zero)
            {
                (suppressed, _suppressed) = (_suppressed, 0);
                _reportedAt = now;
            }
            return true;
        }
    }

    private TimeSpan Remaining(long now)
    {
        var left = s_reportInterval - time.GetElapsedTime(_reportedAt, now);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    private void ReportDue()
    {
        long suppressed;
        LogRateLimit limit;
        lock (_lock)
        {
            var now = time.GetTimestamp();
            if (_suppressed > 0 && Remaining(now) > TimeSpan.Zero)
            {
                // A line let through reported since the timer was armed: this count waits for the rest of its second.
                _timer!.Change(Remaining(now), Timeout.InfiniteTimeSpan);
                return;
            }
            _timer!.Dispose();
            _timer = null;
            if (_suppressed == 0)
            {
                return;
            }
            (suppressed, _suppressed) = (_suppressed, 0);
            _reportedAt = now;
            limit = _limit!;
        }
        report(suppressed, limit);
    }
}
