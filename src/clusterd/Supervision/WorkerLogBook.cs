using Clusterd.Protocol.Messages;

namespace Clusterd.Supervision;

/// <summary>
/// The most recent captured output lines of each group (for `clusterctl logs`), bounded per group so that a chatty
/// group cannot push out a quiet one's lines or grow clusterd's memory. One writer (the output capture), many readers.
/// </summary>
internal sealed class WorkerLogBook(TimeProvider time, int linesPerGroup = 2000)
{
    private readonly Dictionary<string, Queue<LogLine>> _groups = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private long _seq;

    /// <summary>Raised after a line is stored, on the writer's thread; handlers must not block.</summary>
    public event Action<LogLine>? Appended;

    public LogLine Append(string group, int slot, int pid, string stream, string text)
    {
        LogLine line;
        lock (_lock)
        {
            line = new LogLine(++_seq, time.GetUtcNow(), group, slot, pid, stream, text);
            Store(line);
        }
        Appended?.Invoke(line);
        return line;
    }

    /// <summary>Every line held, oldest first: what an in-place upgrade carries (docs/adr/0008).</summary>
    public IReadOnlyList<LogLine> Export()
    {
        lock (_lock)
        {
            return [.. _groups.Values.SelectMany(g => g).OrderBy(l => l.Seq)];
        }
    }

    /// <summary>Takes back what <see cref="Export"/> gave (each group to its bound), before any line is appended; seqs go on from the last.</summary>
    public void Restore(IReadOnlyList<LogLine> lines)
    {
        lock (_lock)
        {
            foreach (var line in lines)
            {
                Store(line);
                _seq = Math.Max(_seq, line.Seq);
            }
        }
    }

    /// <summary>Under the lock: <paramref name="line"/> goes in, and its group's oldest out once the group is full.</summary>
    private void Store(LogLine line)
    {
        if (!_groups.TryGetValue(line.Group, out var lines))
        {
            _groups[line.Group] = lines = new Queue<LogLine>();
        }
        if (lines.Count == linesPerGroup)
        {
            lines.Dequeue();
        }
        lines.Enqueue(line);
    }

    /// <summary>The last <paramref name="count"/> lines of a group (or of one slot of it), oldest first.</summary>
    public IReadOnlyList<LogLine> Tail(string group, int? slot, int count) => Tail(group, l => slot is null || l.Slot == slot, count);

    /// <summary>The last <paramref name="count"/> lines that match, of one group or (null) of all, oldest first.</summary>
    public IReadOnlyList<LogLine> Tail(string? group, Func<LogLine, bool> wanted, int count)
    {
        lock (_lock)
        {
            IEnumerable<LogLine> lines = group is null ? _groups.Values.SelectMany(g => g).OrderBy(l => l.Seq)
                : _groups.TryGetValue(group, out var queue) ? queue
                : [];
            var matching = lines.Where(wanted).ToArray();
            return matching[Math.Max(0, matching.Length - count)..];
        }
    }
}
