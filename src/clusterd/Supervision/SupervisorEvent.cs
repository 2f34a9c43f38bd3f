using Clusterd.Readiness;

namespace Clusterd.Supervision;

/// <summary>Everything that can change supervisor state arrives as one of these, through one channel, to one loop.</summary>
internal abstract record SupervisorEvent;

/// <summary>An input for one worker. <paramref name="Incarnation"/> ties it to one process of the slot; <paramref name="Timer"/> to one arming.</summary>
/// <param name="Arg">Exited and MainExited: waitpid's status word.</param>
/// <param name="Text">SpawnFailed and ExecFailed: why.</param>
/// <param name="Process">Spawned: the new process.</param>
/// <param name="Transient">SpawnFailed and ExecFailed: the cause can pass (EAGAIN, EMFILE, ENOMEM...): back off and retry.</param>
internal sealed record WorkerEvent(
    Worker Worker,
    int Incarnation,
    WorkerInput Input,
    int Arg = 0,
    string? Text = null,
    WorkerTimer? Timer = null,
    IWorkerProcess? Process = null,
    bool Transient = false) : SupervisorEvent;

/// <summary>A group's notify socket has messages waiting (one wake-up for many datagrams; the loop drains them in turns).</summary>
internal sealed record NotifyEvent(NotifySocket Socket) : SupervisorEvent;

internal sealed record ShutdownEvent : SupervisorEvent;

/// <summary>Work that must run on the loop, to prove the loop is alive (the service manager's watchdog ping).</summary>
internal sealed record CallbackEvent(Action Run) : SupervisorEvent;

/// <summary>
/// An operator's command, run on the loop; it completes <paramref name="Done"/> now or later (a rollout). The caller
/// gets <paramref name="Answer"/>, completed with the same result once a snapshot that shows its effect is published:
/// a <c>status</c> sent after the answer sees what the command did.
/// </summary>
internal sealed record OperationEvent(Action<Supervisor> Run, TaskCompletionSource<OperationResult> Done, TaskCompletionSource<OperationResult> Answer) : SupervisorEvent;

/// <summary>A one-shot timer that can be cancelled after it has already fired: the loop drops events of disposed timers.</summary>
internal sealed class WorkerTimer : IDisposable
{
    private ITimer? _timer;

    public bool Disposed { get; private set; }

    /// <summary>When it fires, on <c>time.GetTimestamp()</c>'s clock: an upgrade carries it across as a deadline.</summary>
    public long Due { get; private set; }

    public void Start(TimeProvider time, TimeSpan delay, Action<WorkerTimer> fire)
    {
        Due = time.GetTimestamp() + (long)(delay.TotalSeconds * time.TimestampFrequency);
        _timer = time.CreateTimer(static s => ((Action)s!)(), (Action)(() => fire(this)), delay, Timeout.InfiniteTimeSpan);
    }

    public void Dispose()
    {
        Disposed = true;
        _timer?.Dispose();
    }
}
