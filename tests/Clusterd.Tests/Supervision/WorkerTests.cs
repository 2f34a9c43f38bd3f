using Clusterd.Protocol;
using Clusterd.Supervision;

namespace Clusterd.Tests.Supervision;

public sealed class WorkerTests
{
    private static Worker Ready()
    {
        var worker = FakeWorkerHost.Worker(FakeWorkerHost.Group());
        worker.State = WorkerState.Ready;
        worker.Pid = 4242;
        worker.SpawnedAt = DateTimeOffset.UnixEpoch;
        worker.ReadyAt = DateTimeOffset.UnixEpoch.AddSeconds(1);
        return worker;
    }

    /// <summary>A health watcher with one result already.</summary>
    private static Clusterd.Supervision.Health.WorkerHealth CheckedOnce(Worker worker) =>
        worker.Health = new Clusterd.Supervision.Health.WorkerHealth(worker.Incarnation) { LastCheck = (false, TimeSpan.FromSeconds(1), "timed out") };

    [Fact]
    public void Snapshot_NothingChanged_ReturnsTheSameObject()
    {
        var worker = Ready();

        var first = worker.Snapshot();

        Assert.Same(first, worker.Snapshot());
        Assert.Equal((4242, PublicWorkerState.Ready), (first.Pid, first.State));
    }

    public static TheoryData<string> Changes =>
        ["pid", "state", "generation", "restarts", "spawned", "ready", "exit", "status", "dropped", "health", "check", "process"];

    [Theory]
    [MemberData(nameof(Changes))]
    public void Snapshot_AnyPublishedFieldChanged_IsBuiltAgainWithIt(string change)
    {
        var worker = Ready();
        var checkedOnce = change == "check" ? CheckedOnce(worker) : null;
        var before = worker.Snapshot();

        switch (change)
        {
            case "pid": worker.Pid = 4243; break;
            case "state": worker.State = WorkerState.Stopping; break;
            case "generation": worker.Generation = 7; break;
            case "restarts": worker.Restarts = 3; break;
            case "exit": worker.LastExit = new ExitInfo("crashed", 1, null, null); break;
            case "status": worker.Status = "warming up"; break;
            case "dropped": Interlocked.Increment(ref worker.DroppedOutputLines); break;
            case "spawned": worker.SpawnedAt = DateTimeOffset.UnixEpoch.AddSeconds(-1); break;
            case "ready": worker.ReadyAt = DateTimeOffset.UnixEpoch.AddSeconds(2); break;
            case "health": CheckedOnce(worker); break;
            case "check": checkedOnce!.LastCheck = (true, TimeSpan.FromSeconds(2), null); break; // a result lands; the worker is not told
            case "process": worker.Process = new FakeProcess(4242, cgroup: "/clusterd/web/0"); break;
        }
        var after = worker.Snapshot();

        Assert.NotSame(before, after);
        Assert.NotEqual(before, after);
        Assert.Same(after, worker.Snapshot());
    }
}
