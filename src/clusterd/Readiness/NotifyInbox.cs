using Microsoft.Extensions.Logging;

namespace Clusterd.Readiness;

/// <summary>
/// A group's notify messages between the thread that receives them and the supervisor loop that applies them, with
/// bounded memory and bounded loop time whatever the senders do:
/// <list type="bullet">
/// <item>one entry per sender: a sender's later datagrams fold into its waiting entry (the latest of each kind
/// counts, so a flood's READY=1, WATCHDOG=1 and STOPPING=1 get through; the rest is superseded and counted);</item>
/// <item>at most <see cref="Capacity"/> senders waiting: then the receiver stops reading until the loop makes room
/// (the kernel queues a few datagrams more, then senders block in sendto), so nothing of a real worker is dropped;</item>
/// <item>one wake-up of the loop when the inbox goes from empty to not, and at most <c>turnBudget</c> senders per
/// loop turn: a busy group re-queues its wake-up behind everything else the loop has to do.</item>
/// </list>
/// The receive side (<see cref="TryOffer"/>, <see cref="WaitForRoomAsync"/>) is called by one receiving thread; the
/// rest only on the loop.
/// </summary>
internal sealed partial class NotifyInbox
{
    public const int DefaultCapacity = 64;
    public const int DefaultTurnBudget = 16;

    // Datagrams folded into one entry before it counts as a flood worth a warning: a worker that is just busy sends a few.
    private const int FloodThreshold = 100;

    // Distinct stranger pids remembered so each is reported once.
    private const int RememberedStrangers = 256;

    private static readonly TimeSpan s_floodReportInterval = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_strangerLogInterval = TimeSpan.FromSeconds(10);
    private const int StrangerLinesPerInterval = 5;

    private readonly Lock _lock = new();
    private readonly Dictionary<int, NotifySender> _waiting = [];
    private readonly Queue<NotifySender> _arrival = new();
    private readonly Func<int, int> _sessionOf;
    private readonly Action _wake;
    private readonly int _turnBudget;
    private TaskCompletionSource? _room;
    private bool _awake; // a wake-up is posted or being handled; the next one is posted when this turn ends
    private int _peak;
    private long _paused;

    // Loop only.
    private readonly HashSet<int> _strangers = [];
    private readonly Queue<int> _strangerOrder = new();
    private readonly LogBudget _strangerLog;
    private readonly LogBudget _floodLog;
    private readonly ILogger _logger;
    private long _superseded;
    private long _pausedReported;
    private bool _floodSeen;
    private (int Pid, long Datagrams) _busiest;

    /// <param name="sessionOf">The session of a pid (0 if gone); asked once per waiting entry, on the receiving thread.</param>
    /// <param name="wake">Posts a wake-up to the loop, which then calls <see cref="Drain"/>.</param>
    public NotifyInbox(string group, ILogger logger, TimeProvider time, Func<int, int> sessionOf, Action wake,
        int capacity = DefaultCapacity, int turnBudget = DefaultTurnBudget)
    {
        Group = group;
        _logger = logger;
        _sessionOf = sessionOf;
        _wake = wake;
        Capacity = capacity;
        _turnBudget = turnBudget;
        _strangerLog = new LogBudget(time, StrangerLinesPerInterval, s_strangerLogInterval);
        _floodLog = new LogBudget(time, 1, s_floodReportInterval);
    }

    public string Group { get; }

    /// <summary>The most senders that may wait at once.</summary>
    public int Capacity { get; }

    /// <summary>The most senders that ever waited at once: never more than <see cref="Capacity"/>.</summary>
    public int Peak
    {
        get
        {
            lock (_lock)
            {
                return _peak;
            }
        }
    }

    /// <summary>
    /// Receiving thread: queues <paramref name="message"/> from <paramref name="pid"/>, folded into its waiting entry if
    /// it has one. False when <see cref="Capacity"/> other senders wait: keep the message, await
    /// <see cref="WaitForRoomAsync"/>, offer it again.
    /// </summary>
    public bool TryOffer(int pid, NotifyMessage message)
    {
        lock (_lock)
        {
            if (_waiting.TryGetValue(pid, out var sender))
            {
                sender.Add(message);
                return true;
            }
            if (_waiting.Count >= Capacity)
            {
                _paused++;
                return false;
            }
            // Asked now, while the sender is surely alive: a short-lived child (systemd-notify) is gone by the time the loop looks.
            sender = new NotifySender(pid, _sessionOf(pid), message);
            _waiting.Add(pid, sender);
            _arrival.Enqueue(sender);
            _peak = Math.Max(_peak, _waiting.Count);
            if (_awake)
            {
                return true;
            }
            _awake = true;
        }
        _wake();
        return true;
    }

    /// <summary>Receiving thread: completes once a sender that does not wait yet has room.</summary>
    public Task WaitForRoomAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_waiting.Count < Capacity)
            {
                return Task.CompletedTask;
            }
            _room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _room.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Loop: hands waiting senders to <paramref name="deliver"/> in the order they arrived, at most the turn budget,
    /// and wakes the loop again if more wait. <paramref name="deliver"/> returns false for a sender that is no worker of
    /// the group: a stranger, reported here.
    /// </summary>
    public void Drain(Func<NotifySender, bool> deliver)
    {
        for (var turn = 0; turn < _turnBudget && TryTake() is { } sender; turn++)
        {
            Count(sender);
            if (!deliver(sender))
            {
                ReportStranger(sender);
            }
        }
        bool more;
        lock (_lock)
        {
            more = _waiting.Count > 0;
            _awake = more;
        }
        if (more)
        {
            _wake(); // behind whatever else the loop has queued meanwhile
        }
        ReportFlood();
    }

    private NotifySender? TryTake()
    {
        lock (_lock)
        {
            if (!_arrival.TryDequeue(out var sender))
            {
                return null;
            }
            _waiting.Remove(sender.Pid);
            if (_room is { } room)
            {
                _room = null;
                room.TrySetResult();
            }
            return sender;
        }
    }

    private void Count(NotifySender sender)
    {
        _superseded += sender.Datagrams - 1;
        if (sender.Datagrams > _busiest.Datagrams)
        {
            _busiest = (sender.Pid, sender.Datagrams);
        }
        _floodSeen |= sender.Datagrams >= FloodThreshold;
    }

    private void ReportStranger(NotifySender sender)
    {
        if (!_strangers.Add(sender.Pid))
        {
            return;
        }
        _strangerOrder.Enqueue(sender.Pid);
        if (_strangerOrder.Count > RememberedStrangers)
        {
            _strangers.Remove(_strangerOrder.Dequeue());
        }
        if (_strangerLog.TryTake(out var heldBack))
        {
            LogStranger(Group, sender.Pid, sender.Session, sender.Message.ToString(), heldBack);
        }
    }

    private void ReportFlood()
    {
        long paused;
        lock (_lock)
        {
            paused = _paused;
        }
        if ((!_floodSeen && paused == _pausedReported) || !_floodLog.TryTake(out _))
        {
            return;
        }
        LogFlood(Group, _superseded, paused - _pausedReported, _busiest.Pid, _busiest.Datagrams, Peak, Capacity);
        _superseded = 0;
        _pausedReported = paused;
        _floodSeen = false;
        _busiest = default;
    }

    [LoggerMessage(EventId = 400, Level = LogLevel.Warning,
        Message = "{Group}: ignored notify messages from pid {Pid} (session {Session}), which is neither a worker of this group nor in the session of one: {Message}; a worker's descendant must not leave its session (setsid) to notify ({HeldBack} more such lines held back)")]
    private partial void LogStranger(string group, int pid, int session, string message, long heldBack);

    [LoggerMessage(EventId = 401, Level = LogLevel.Warning,
        Message = "{Group}: notify datagrams arrive faster than clusterd applies them: {Superseded} superseded by later ones of the same sender (the latest of each kind is applied), reading paused {Paused} times with the queue full; busiest sender pid {Pid} ({Datagrams} datagrams in one turn); most senders waiting at once: {Peak} of {Capacity}")]
    private partial void LogFlood(string group, long superseded, long paused, int pid, long datagrams, int peak, int capacity);
}
