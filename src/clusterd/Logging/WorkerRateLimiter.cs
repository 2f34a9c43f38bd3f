using Clusterd.Config;

namespace Clusterd.Logging;

/// <summary>
/// One worker slot's <c>rate_limit</c>: a token bucket of <c>burst</c> lines refilled at the rate. Both pipe readers
/// of a worker share it. Lines over the limit are counted, and the next line let through is preceded, at most once a
/// second, by one that says how many were suppressed (journald's "Suppressed N messages").
/// </summary>
internal sealed class WorkerRateLimiter(TimeProvider time)
{
    private readonly Lock _lock = new();
    private double _tokens = double.NaN; // full on first use, with that moment's burst
    private long _refilledAt;
    private long _suppressed;
    private long _reportedAt;

    /// <param name="suppressed">Lines dropped since the last report, when it is time to report them; else 0.</param>
    public bool TryTake(LogRateLimit limit, out long suppressed)
    {
        suppressed = 0;
        var now = time.GetTimestamp();
        lock (_lock)
        {
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
                return false;
            }
            _tokens--;
            if (_suppressed > 0 && time.GetElapsedTime(_reportedAt, now) >= TimeSpan.FromSeconds(1))
            {
                (suppressed, _suppressed) = (_suppressed, 0);
                _reportedAt = now;
            }
            return true;
        }
    }
}
