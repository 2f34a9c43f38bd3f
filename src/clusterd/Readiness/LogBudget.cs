namespace Clusterd.Readiness;

/// <summary>
/// At most <c>count</c> log lines per <c>interval</c>, for lines that someone else can cause at will (a sender that
/// is nobody's, a flood); the next line that may be written learns how many were held back. Not thread-safe: one per
/// thread that logs.
/// </summary>
internal sealed class LogBudget(TimeProvider time, int count, TimeSpan interval)
{
    private long _windowStart;
    private int _used;
    private long _held;

    /// <summary>True if a line may be written now; <paramref name="heldBack"/> is how many were not since the last one.</summary>
    public bool TryTake(out long heldBack)
    {
        var now = time.GetTimestamp();
        if (_used == 0 || time.GetElapsedTime(_windowStart, now) >= interval)
        {
            _windowStart = now;
            _used = 0;
        }
        if (_used < count)
        {
            _used++;
            heldBack = _held;
            _held = 0;
            return true;
        }
        _held++;
        heldBack = 0;
        return false;
    }
}
