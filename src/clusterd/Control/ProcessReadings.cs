using Clusterd.Platform;
using Clusterd.Supervision;

namespace Clusterd.Control;

/// <summary>
/// Each worker's CPU and RSS from its cgroup or /proc, shared by every status request and <c>/metrics</c> scrape of
/// <see cref="MaxAge"/>. At 1000 workers the reads are most of what a status or a scrape costs (with a cgroup per
/// worker, four files each: ~35–60 µs of kernel time per worker here), and readers asking in a loop on 32 connections
/// each would multiply it. A reading is that of one process (its pid and spawn time), so a recycled pid never shows the
/// previous process's numbers; it is at most <see cref="MaxAge"/> old, which a status shows as CPU and RSS that much
/// behind, and says so (<c>stats_read_at</c>). Readings are taken only when asked for (an idle clusterd reads nothing),
/// on the asker's thread, never on the supervisor loop; older ones are dropped, so what is kept is at most one per
/// worker.
/// </summary>
internal sealed class ProcessReadings(TimeProvider time, Func<WorkerSnapshot, ProcessStat?> read)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);

    private static readonly ParallelOptions s_parallel = new() { MaxDegreeOfParallelism = Environment.ProcessorCount };

    private readonly Dictionary<(int Pid, DateTimeOffset? Spawned), (long At, DateTimeOffset ReadAt, ProcessStat? Stat)> _readings = [];
    private readonly Lock _lock = new();

    public ProcessReadings(TimeProvider time)
        : this(time, worker => ProcessStats.TryReadWorker(worker.Pid, worker.Cgroup, out var stat) ? stat : null)
    {
    }

    /// <summary>
    /// One reading per worker, in order (null: no process, or it is gone), and when the oldest of them was taken. Missing
    /// or stale ones are read anew, spread over the cores, so the answer waits for a share of the reads instead of all of them.
    /// </summary>
    public WorkerReadings Of(IReadOnlyList<WorkerSnapshot> workers)
    {
        var now = time.GetTimestamp();
        var readings = new ProcessStat?[workers.Count];
        DateTimeOffset? oldest = null;
        var stale = new List<int>();
        lock (_lock)
        {
            for (var i = 0; i < workers.Count; i++)
            {
                if (workers[i].Pid <= 0)
                {
                    continue;
                }
                if (_readings.TryGetValue(Key(workers[i]), out var kept) && time.GetElapsedTime(kept.At, now) < MaxAge)
                {
                    readings[i] = kept.Stat;
                    oldest = oldest is { } o && o <= kept.ReadAt ? o : kept.ReadAt;
                }
                else
                {
                    stale.Add(i);
                }
            }
        }
        if (stale.Count == 0)
        {
            return new WorkerReadings(readings, oldest);
        }
        var readAt = time.GetUtcNow();
        Parallel.ForEach(stale, s_parallel, i => readings[i] = read(workers[i]));
        lock (_lock)
        {
            foreach (var i in stale)
            {
                _readings[Key(workers[i])] = (now, readAt, readings[i]);
            }
            foreach (var (key, kept) in _readings)
            {
                if (time.GetElapsedTime(kept.At, now) >= MaxAge)
                {
                    _readings.Remove(key);
                }
            }
        }
        return new WorkerReadings(readings, oldest ?? readAt);
    }

    private static (int, DateTimeOffset?) Key(WorkerSnapshot worker) => (worker.Pid, worker.SpawnedAt);
}

/// <summary>What <see cref="ProcessReadings.Of"/> found: one reading per worker, and when the oldest was taken (null: no worker had a process).</summary>
internal sealed record WorkerReadings(ProcessStat?[] Stats, DateTimeOffset? ReadAt);
