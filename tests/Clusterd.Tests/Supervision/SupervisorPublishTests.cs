using Clusterd.Supervision;

namespace Clusterd.Tests.Supervision;

/// <summary>
/// When the loop publishes its snapshot (<see cref="Supervisor.PublishInterval"/>): after a burst of events, but while
/// bursts keep coming at most once per interval; at once to answer an operation; and the last burst is always published.
/// </summary>
public sealed class SupervisorPublishTests
{
    [Fact]
    public async Task BurstsWithinTheInterval_AreNotPublishedOneByOne_ButAnOperationsAnswerIsAtOnce()
    {
        await using var h = new SupervisorHarness(TimeSpan.FromHours(1), SupervisorHarness.Group());
        await h.SettleAsync(); // its answers were published: the next burst is within the interval
        var published = 0;
        h.Supervisor.Published += _ => Interlocked.Increment(ref published);

        for (var i = 0; i < 20; i++)
        {
            // One burst each: the next is posted only once this one was handled.
            var handled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            h.Supervisor.Post(new CallbackEvent(() => handled.SetResult()));
            await handled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }
        var afterTheBursts = Volatile.Read(ref published);
        await h.SettleAsync(); // two operations, each answered with a snapshot of its own

        Assert.Equal((0, 2), (afterTheBursts, Volatile.Read(ref published)));
    }

    [Fact]
    public async Task TheCurrentSnapshot_ShowsABurstWhosePublishWasDeferred()
    {
        await using var h = new SupervisorHarness(TimeSpan.FromHours(1), SupervisorHarness.Group());
        await h.SettleAsync(); // a snapshot was just published: the next burst's is deferred for the hour
        var process = h.Launcher.Start(h.Launcher.Launched[0]); // two events, no operation
        var handled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Supervisor.Post(new CallbackEvent(() => handled.SetResult())); // behind them: the loop has handled both
        await handled.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var published = h.Supervisor.Snapshot.Groups[0].Workers[0].Pid;
        var current = (await h.Supervisor.CurrentSnapshotAsync(CancellationToken.None)).Groups[0].Workers[0].Pid;

        Assert.Equal((0, process.Pid), (published, current));
    }

    [Fact]
    public async Task TheLastBurst_IsPublishedOnceTheIntervalIsOver_WithoutAnyOperation()
    {
        await using var h = new SupervisorHarness(TimeSpan.FromMilliseconds(50), SupervisorHarness.Group());
        await h.SettleAsync(); // a snapshot was just published: the next burst comes within the interval
        var started = new TaskCompletionSource<WorkerSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
        Assert.Equal(0, h.Supervisor.Snapshot.Groups[0].Workers[0].Pid); // launched, not started
        h.Supervisor.Published += snapshot =>
        {
            if (snapshot.Groups[0].Workers[0] is { Pid: not 0 } worker)
            {
                started.TrySetResult(worker);
            }
        };

        var process = h.Launcher.Start(h.Launcher.Launched[0]); // two events, no operation

        var shown = await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(process.Pid, shown.Pid);
    }
}
