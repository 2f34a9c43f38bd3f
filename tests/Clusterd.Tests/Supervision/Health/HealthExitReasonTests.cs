using Clusterd.Protocol;
using Clusterd.Supervision;

namespace Clusterd.Tests.Supervision.Health;

/// <summary>The exit reasons of worker health, as the state machine records them.</summary>
public class HealthExitReasonTests
{
    private readonly FakeWorkerHost _host = new();

    private Worker StartReady(FakeProcess process)
    {
        var w = FakeWorkerHost.Worker(FakeWorkerHost.Group());
        WorkerStateMachine.Handle(_host, w, WorkerInput.Start);
        WorkerStateMachine.Handle(_host, w, WorkerInput.Spawned, process.Pid, process: process);
        WorkerStateMachine.Handle(_host, w, WorkerInput.ExecSucceeded);
        WorkerStateMachine.Handle(_host, w, WorkerInput.NotifyReady);
        return w;
    }

    [Fact]
    public void Exited_OomKillCounted_IsRecordedAsOom()
    {
        var w = StartReady(new FakeProcess(100) { OomKilled = true });

        WorkerStateMachine.Handle(_host, w, WorkerInput.Exited, FakeWorkerHost.KilledBy(9));

        Assert.Equal(ExitReasons.Oom, w.LastExit!.Reason);
        Assert.Contains(_host.Events, e => e is { Kind: LifecycleEventKinds.Exit, Reason: ExitReasons.Oom, Signal: 9 });
    }

    [Fact]
    public void Exited_SigkillWithoutOomKill_IsACrash()
    {
        var w = StartReady(new FakeProcess(100));

        WorkerStateMachine.Handle(_host, w, WorkerInput.Exited, FakeWorkerHost.KilledBy(9));

        Assert.Equal(ExitReasons.Crashed, w.LastExit!.Reason);
    }

    [Fact]
    public void Drain_WithAReason_DisconnectsAndExitsWithIt_EvenWhenItNeededSigkill()
    {
        var w = StartReady(new FakeProcess(100));

        WorkerStateMachine.Handle(_host, w, WorkerInput.Drain, text: ExitReasons.MemoryLimit);
        WorkerStateMachine.Handle(_host, w, WorkerInput.StateTimer); // drain_delay: the stop signal
        WorkerStateMachine.Handle(_host, w, WorkerInput.StateTimer); // stop_timeout: SIGKILL
        WorkerStateMachine.Handle(_host, w, WorkerInput.Exited, FakeWorkerHost.KilledBy(9));

        Assert.Contains(_host.Events, e => e is { Kind: LifecycleEventKinds.Disconnect, Reason: ExitReasons.MemoryLimit });
        Assert.Equal(ExitReasons.MemoryLimit, w.LastExit!.Reason);
        Assert.Equal("killed after stop_timeout", w.LastExit.Detail);
    }

    [Fact]
    public void Stop_WithoutAReason_IsStopped()
    {
        var w = StartReady(new FakeProcess(100));

        WorkerStateMachine.Handle(_host, w, WorkerInput.Stop);
        WorkerStateMachine.Handle(_host, w, WorkerInput.Exited, FakeWorkerHost.KilledBy(15));

        Assert.Equal(ExitReasons.Stopped, w.LastExit!.Reason);
    }
}
