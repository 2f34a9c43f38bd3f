using Clusterd.Protocol;

namespace Clusterd.Supervision;

/// <summary>
/// The last <see cref="Capacity"/> lifecycle events, in order. Owned by the supervisor loop, which is its only writer;
/// readers take a snapshot under the lock, so a slow reader can never hold the loop up.
/// </summary>
internal sealed class LifecycleJournal
{
    private readonly LifecycleEvent[] _ring;
    private readonly Lock _lock = new();
    private long _nextSeq = 1;

    public LifecycleJournal(int capacity = 10_000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ring = new LifecycleEvent[capacity];
    }

    /// <summary>Raised after an event is stored, on the writer's thread.</summary>
    public event Action<LifecycleEvent>? Appended;

    public LifecycleEvent Append(Func<long, LifecycleEvent> create)
    {
        LifecycleEvent e;
        lock (_lock)
        {
            e = create(_nextSeq);
            _ring[(_nextSeq - 1) % _ring.Length] = e;
            _nextSeq++;
        }
        Appended?.Invoke(e);
        return e;
    }

    /// <summary>The seq the next event gets.</summary>
    public long NextSeq
    {
        get
        {
            lock (_lock)
            {
                return _nextSeq;
            }
        }
    }

    /// <summary>
    /// Takes over the journal of the clusterd image before an in-place upgrade (docs/adr/0008): its tail, and its seq
    /// going on from <paramref name="nextSeq"/>, so a client resuming with <c>events --since</c> misses nothing.
    /// </summary>
    public void Restore(IReadOnlyList<LifecycleEvent> tail, long nextSeq)
    {
        lock (_lock)
        {
            foreach (var e in tail.Where(e => e.Seq >= 1 && e.Seq < nextSeq && e.Seq >= nextSeq - _ring.Length))
            {
                _ring[(e.Seq - 1) % _ring.Length] = e;
            }
            _nextSeq = nextSeq;
        }
    }

    /// <summary>Events with <c>Seq &gt; since</c> that are still held, oldest first.</summary>
    public IReadOnlyList<LifecycleEvent> Since(long since)
    {
        lock (_lock)
        {
            var first = Math.Max(since + 1, Math.Max(1, _nextSeq - _ring.Length));
            var result = new List<LifecycleEvent>((int)Math.Max(0, _nextSeq - first));
            for (var seq = first; seq < _nextSeq; seq++)
            {
                if (_ring[(seq - 1) % _ring.Length] is { } e && e.Seq == seq) // a restored tail may be shorter than the ring
                {
                    result.Add(e);
                }
            }
            return result;
        }
    }
}
