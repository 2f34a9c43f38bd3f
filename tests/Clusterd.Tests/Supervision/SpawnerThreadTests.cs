using System.Collections.Concurrent;
using Clusterd.Supervision;

namespace Clusterd.Tests.Supervision;

/// <summary>Alone: the lent main thread is process-wide, and a launcher started meanwhile by another test would take it.</summary>
[CollectionDefinition(nameof(SpawnerThreadTests), DisableParallelization = true)]
public sealed class SpawnerThreadAlone;

[Collection(nameof(SpawnerThreadTests))]
public class SpawnerThreadTests
{
    [Fact]
    public void Run_FromTheHostBeforeAnyLoopStarted_RunsOnTheLentMainThread()
    {
        var lender = Environment.CurrentManagedThreadId;
        var ranOn = 0;

        SpawnerThread.LendMainThread(() => SpawnerThread.Run(() => ranOn = Environment.CurrentManagedThreadId));

        Assert.Equal(lender, ranOn);
    }

    [Fact]
    public void Run_FromTheHostOnceTheLoopRunsOnTheMainThread_RunsThroughThatLoop()
    {
        var lender = Environment.CurrentManagedThreadId;
        var ranOn = 0;
        using var queue = new BlockingCollection<Action>();

        SpawnerThread.LendMainThread(() =>
        {
            SpawnerThread.Start(() =>
            {
                foreach (var action in queue.GetConsumingEnumerable())
                {
                    action();
                }
            }, action =>
            {
                using var done = new ManualResetEventSlim();
                queue.Add(() =>
                {
                    action();
                    done.Set();
                });
                done.Wait();
            });
            SpawnerThread.Run(() => ranOn = Environment.CurrentManagedThreadId);
            queue.CompleteAdding(); // the loop ends, and so does the lending
        });

        Assert.Equal(lender, ranOn);
    }

    [Fact]
    public void Run_ThatThrowsOnTheLentMainThread_ThrowsToItsCaller()
    {
        Exception? caught = null;

        SpawnerThread.LendMainThread(() => caught = Record.Exception(() => SpawnerThread.Run(() => throw new IOException("execve failed"))));

        Assert.Equal("execve failed", Assert.IsType<IOException>(caught).Message);
    }
}
