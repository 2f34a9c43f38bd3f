using System.Collections.Concurrent;

namespace Clusterd.Logging;

/// <summary>
/// Worker lines clusterd let go, by group and reason: <c>clusterd_log_lines_dropped_total{group,reason}</c>.
/// Counted from the pipe readers and the sink writers alike, so lock-free.
/// </summary>
internal sealed class LogDrops
{
    /// <summary>The capture queue was full: all sinks together were slower than the workers.</summary>
    public const string QueueFull = "queue_full";

    /// <summary>Over the worker's rate_limit.</summary>
    public const string RateLimit = "rate_limit";

    /// <summary>A file's queue was full: the disk is slower than the group writes.</summary>
    public const string SlowDisk = "slow_disk";

    /// <summary>The file's disk is full (ENOSPC).</summary>
    public const string DiskFull = "disk_full";

    /// <summary>The file could not be opened or written for another reason.</summary>
    public const string FileError = "file_error";

    /// <summary>journald's socket buffer was full (EAGAIN): journald is slower than the workers.</summary>
    public const string JournalBusy = "journal_busy";

    /// <summary>journald's socket refused the line (journald is restarting, or gone).</summary>
    public const string JournalError = "journal_error";

    public static readonly IReadOnlyList<string> Reasons = [QueueFull, RateLimit, SlowDisk, DiskFull, FileError, JournalBusy, JournalError];

    private readonly ConcurrentDictionary<(string Group, string Reason), StrongBox> _counts = new();

    public void Add(string group, string reason, long count = 1) =>
        Interlocked.Add(ref _counts.GetOrAdd((group, reason), _ => new StrongBox()).Value, count);

    public long Get(string group, string reason) => _counts.TryGetValue((group, reason), out var box) ? Interlocked.Read(ref box.Value) : 0;

    /// <summary>Every count, for an in-place upgrade to carry across (docs/adr/0008).</summary>
    public IEnumerable<(string Group, string Reason, long Count)> All =>
        _counts.Select(p => (p.Key.Group, p.Key.Reason, Interlocked.Read(ref p.Value.Value)));

    /// <summary>Groups that dropped anything, for series that outlive a removed group.</summary>
    public IEnumerable<string> Groups => _counts.Keys.Select(k => k.Group).Distinct(StringComparer.Ordinal);

    private sealed class StrongBox
    {
        public long Value;
    }
}
