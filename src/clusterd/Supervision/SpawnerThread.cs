using System.Collections.Concurrent;

namespace Clusterd.Supervision;

/// <summary>
/// Where the spawner loop runs. In the daemon, on the process's main thread (<see cref="LendMainThread"/>): every worker
/// is then the child of the thread whose id is the pid, and that thread is the one an <c>execve</c> keeps, so an
/// in-place upgrade (docs/adr/0008) ends no thread that forked a worker: no parent-death signal fires, however many
/// upgrades follow one another. Orphans come to that thread too: the reaper tells them from workers by what is tracked.
/// Elsewhere (tests, a supervisor in another host) on a thread of its own, as before.
/// </summary>
internal static class SpawnerThread
{
    private static BlockingCollection<ThreadStart>? s_mainThread;

    /// <summary>The lent main thread's id; 0 when none was lent.</summary>
    private static int s_mainThreadId;

    /// <summary>How to run an action on the last loop started: the thread whose children the workers are.</summary>
    private static Action<Action>? s_runOnLoop;

    /// <summary>
    /// Runs <paramref name="loop"/> on the lent main thread if there is one, else on a new thread.
    /// <paramref name="runOnLoop"/> runs an action on that loop and waits for it (<see cref="Run"/>).
    /// </summary>
    public static void Start(ThreadStart loop, Action<Action> runOnLoop)
    {
        Volatile.Write(ref s_runOnLoop, runOnLoop);
        if (Interlocked.Exchange(ref s_mainThread, null) is { } main)
        {
            main.Add(loop);
            main.CompleteAdding();
            return;
        }
        new Thread(loop) { IsBackground = true, Name = "clusterd spawner" }.Start();
    }

    /// <summary>
    /// Runs <paramref name="action"/> on the thread that forks workers, and waits for it: an exec must come from there
    /// (docs/adr/0008). Inline when the caller is that thread, or when no thread was lent and no loop started (the start
    /// of Main); through the spawner loop once one runs; handed to the lent main thread while it still waits for one.
    /// </summary>
    public static void Run(Action action)
    {
        var mainId = Volatile.Read(ref s_mainThreadId);
        if (mainId == Environment.CurrentManagedThreadId)
        {
            action();
        }
        else if (mainId != 0 && Interlocked.Exchange(ref s_mainThread, null) is { } idle)
        {
            Exception? failure = null;
            using var done = new ManualResetEventSlim();
            idle.Add(() =>
            {
                try
                {
                    action();
                }
                catch (Exception e)
                {
                    failure = e; // the caller's to handle, as if it had run inline
                }
                finally
                {
                    done.Set();
                }
            });
            idle.CompleteAdding();
            done.Wait();
            if (failure is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            }
        }
        else if (Volatile.Read(ref s_runOnLoop) is { } runOnLoop)
        {
            runOnLoop(action);
        }
        else
        {
            action();
        }
    }

    /// <summary>
    /// Runs <paramref name="host"/> on another thread and lends the calling (main) thread to the first spawner loop
    /// started meanwhile; returns once both are over. <paramref name="host"/> must dispose what owns the loop (the host),
    /// or the loop, and so this call, would never end.
    /// </summary>
    public static void LendMainThread(Action host)
    {
        var main = new BlockingCollection<ThreadStart>(1);
        s_mainThread = main;
        Volatile.Write(ref s_mainThreadId, Environment.CurrentManagedThreadId);
        Exception? failure = null;
        var hosting = new Thread(() =>
        {
            try
            {
                host();
            }
            catch (Exception e)
            {
                failure = e; // rethrown on the main thread, where an exception out of Main belongs
            }
            finally
            {
                if (Interlocked.Exchange(ref s_mainThread, null) is { } unused)
                {
                    unused.CompleteAdding(); // no spawner was started: the main thread has nothing to run
                }
            }
        }) { Name = "clusterd host" };
        hosting.Start();
        foreach (var loop in main.GetConsumingEnumerable())
        {
            loop();
        }
        hosting.Join();
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
    }
}
