namespace Clusterd.Supervision;

/// <summary>
/// Gives back the memory a burst of spawns and exits took (a rolling restart of 1000 workers, a scale from 0 to 1000
/// and back). An idle daemon runs no GC that would return the regions such a burst left committed, so once the
/// workers have settled (no fork or exit for <see cref="s_settle"/>) the loop compacts and decommits once, as it does
/// after start (BENCHMARKS.md: memory after bursts).
/// </summary>
internal sealed partial class Supervisor
{
    /// <summary>Forks and exits that make a burst worth a collection; fewer leave too little to give back.</summary>
    private const int BurstChurn = 64;

    private static readonly TimeSpan s_settle = TimeSpan.FromSeconds(2);

    /// <summary>The collection itself; tests count the calls.</summary>
    internal Action CompactMemory { get; set; } =
        static () => GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);

    private int _churn;
    private int _churnWhenArmed = -1;
    private ITimer? _settleTimer;

    /// <summary>Called for every fork and exit, on the loop.</summary>
    private void CountChurn()
    {
        if (++_churn >= BurstChurn && _settleTimer is null)
        {
            ArmSettleTimer();
        }
    }

    private void ArmSettleTimer()
    {
        _churnWhenArmed = _churn;
        _settleTimer = Time.CreateTimer(_ => Post(new CallbackEvent(OnSettleTimer)), null, s_settle, Timeout.InfiniteTimeSpan);
    }

    private void OnSettleTimer()
    {
        _settleTimer?.Dispose();
        _settleTimer = null;
        if (_churn != _churnWhenArmed)
        {
            ArmSettleTimer(); // still busy: look again later
            return;
        }
        _churn = 0;
        CompactMemory();
    }
}
