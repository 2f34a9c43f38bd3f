using System.Collections.Concurrent;
using System.Runtime.Versioning;
using Clusterd.Platform;

namespace Clusterd.Tests.Platform;

/// <summary>
/// The one thread the helper tests spawn from, alive as long as the test run, as clusterd's spawner thread is: on Linux
/// the helper ties its worker's life to the thread that spawned it, and the test framework's threads come and go.
/// </summary>
internal static class Spawner
{
    private static readonly BlockingCollection<Action> s_work = StartThread();

    /// <summary>A fork server started, on first use, from this thread, as clusterd's is from its spawner thread.</summary>
    [SupportedOSPlatform("linux")]
    public static ForkServer ForkServer => s_forkServer.Value;

    [SupportedOSPlatform("linux")]
    private static readonly Lazy<ForkServer> s_forkServer = new(() => new ForkServer(HelperRun.HelperPath));

    public static Task<T> RunAsync<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        s_work.Add(() =>
        {
            try
            {
                done.SetResult(work());
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        });
        return done.Task;
    }

    private static BlockingCollection<Action> StartThread()
    {
        BlockingCollection<Action> queue = [];
        new Thread(() =>
        {
            foreach (var work in queue.GetConsumingEnumerable())
            {
                work();
            }
        })
        { IsBackground = true, Name = "test spawner" }.Start();
        return queue;
    }
}
