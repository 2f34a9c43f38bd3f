using System.Net.Sockets;

namespace Clusterd.Supervision.Health;

/// <summary>
/// What clusterd watches of one worker process besides its exit: its memory samples, its max_lifetime timer and its
/// health checks, with the socket they probe. Belongs to one incarnation of the slot; touched only on the supervisor
/// loop, except <see cref="Checks"/>, which the probe loop watches to know when to end.
/// </summary>
internal sealed class WorkerHealth(int incarnation) : IDisposable
{
    private readonly CancellationTokenSource _checks = new();
    private long _nextCheckDue;

    public int Incarnation { get; } = incarnation;

    public MemoryHysteresis Memory { get; } = new();

    /// <summary>Fires once max_lifetime (with its jitter) is up; null when the group has none.</summary>
    public ITimer? LifetimeTimer { get; set; }

    /// <summary>When <see cref="LifetimeTimer"/> fires (a <see cref="TimeProvider.GetTimestamp"/>), and the lifetime it ends: for an upgrade.</summary>
    public (long Due, TimeSpan Lifetime)? LifetimeDue { get; set; }

    /// <summary>
    /// When the next check is due (a <see cref="TimeProvider.GetTimestamp"/>; one in the past while a check runs): for an
    /// upgrade, which starts the next image's check loop from it. Written by the probe loop, read on the supervisor loop.
    /// </summary>
    public long NextCheckDue
    {
        get => Interlocked.Read(ref _nextCheckDue);
        set => Interlocked.Exchange(ref _nextCheckDue, value);
    }

    /// <summary>
    /// The process's own health socket (127.0.0.1, an ephemeral port, LISTEN_FDNAMES "clusterd-health"), owned here:
    /// the worker inherits a copy, and clusterd's closes with this record once the process is gone.
    /// </summary>
    public Socket? Socket { get; set; }

    /// <summary>Cancelled when the process is gone: its probe loop ends.</summary>
    public CancellationToken Checks => _checks.Token;

    public bool ChecksStarted { get; set; }

    public int ConsecutiveFailures { get; set; }

    /// <summary>The last check: passed or not, how long it took, why it failed. Null before the first.</summary>
    public (bool Passed, TimeSpan Latency, string? Failure)? LastCheck
    {
        get;
        set
        {
            field = value;
            LastCheckChanged?.Invoke();
        }
    }

    /// <summary>Told when <see cref="LastCheck"/> is set: the worker whose status shows it.</summary>
    public Action? LastCheckChanged { get; set; }

    public void Dispose()
    {
        LifetimeTimer?.Dispose();
        _checks.Cancel();
        _checks.Dispose();
        Socket?.Dispose();
    }
}
