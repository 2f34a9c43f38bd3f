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

    public int Incarnation { get; } = incarnation;

    public MemoryHysteresis Memory { get; } = new();

    /// <summary>Fires once max_lifetime (with its jitter) is up; null when the group has none.</summary>
    public ITimer? LifetimeTimer { get; set; }

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
    public (bool Passed, TimeSpan Latency, string? Failure)? LastCheck { get; set; }

    public void Dispose()
    {
        LifetimeTimer?.Dispose();
        _checks.Cancel();
        _checks.Dispose();
        Socket?.Dispose();
    }
}
