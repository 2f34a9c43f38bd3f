using Clusterd.Platform;

namespace Clusterd.Supervision;

/// <summary>An in-place upgrade (docs/adr/0008): the exec on this thread, and workers taken over instead of spawned.</summary>
internal sealed partial class ProcessWorkerLauncher
{
    /// <summary>Spawns so far: names each worker's cgroup, so it goes on across an upgrade instead of reusing a name.</summary>
    public long Spawns
    {
        get => Interlocked.Read(ref _spawns);
        set => Interlocked.Exchange(ref _spawns, value);
    }

    /// <summary>
    /// Runs <paramref name="action"/> on the spawner thread, after the spawns queued before it, and waits for it. The
    /// upgrade's exec must come from this thread: every worker is its child, and a thread that forked workers must
    /// not end (their parent-death signal would fire); an exec ends every thread but the caller.
    /// </summary>
    public void RunOnSpawner(Action action)
    {
        Exception? failure = null;
        using var done = new ManualResetEventSlim();
        _queue.Add(new Action(() =>
        {
            try
            {
                action();
            }
            catch (Exception e)
            {
                failure = e; // the spawner must live on whatever happened
            }
            finally
            {
                done.Set();
            }
        }));
        done.Wait();
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
    }

    /// <summary>
    /// Takes over a worker the previous image of this process started (the same process: it is still our unreaped
    /// child, so its pid names it): a pidfd of our own, its cgroup, and its exit reported as a spawned worker's is.
    /// </summary>
    /// <exception cref="ErrnoException">It is gone (ESRCH): it exited, and was reaped, during the exec.</exception>
    public IWorkerProcess Adopt(Worker worker, int incarnation, int pid, string? cgroup)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("an in-place upgrade is Linux only");
        }
        var process = _linux!.Track(pid, cgroup is null ? null : new WorkerCgroup(cgroup));
        _ = WatchExitAsync(worker, incarnation, process);
        return process;
    }
}
