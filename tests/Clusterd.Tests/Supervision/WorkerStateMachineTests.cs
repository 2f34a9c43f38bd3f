using Clusterd.Config;
using Clusterd.Protocol;
using Clusterd.Supervision;

namespace Clusterd.Tests.Supervision;

public class WorkerStateMachineTests
{
    private readonly FakeWorkerHost _host = new();

    /// <summary>Started, forked and exec'd: the worker is "online", waiting to become ready.</summary>
    private Worker StartOnline(GroupConfig config, int pid = 100)
    {
        var w = FakeWorkerHost.Worker(config);
        WorkerStateMachine.Handle(_host, w, WorkerInput.Start);
        WorkerStateMachine.Handle(_host, w, WorkerInput.Spawned, pid);
        WorkerStateMachine.Handle(_host, w, WorkerInput.ExecSucceeded);
        return w;
    }

    private Worker StartReady(GroupConfig config, int pid = 100)
    {
        var w = StartOnline(config, pid);
        WorkerStateMachine.Handle(_host, w, WorkerInput.NotifyReady);
        return w;
    }

    private void Crash(Worker w, int pid)
    {
        WorkerStateMachine.Handle(_host, w, WorkerInput.Spawned, pid);
        WorkerStateMachine.Handle(_host, w, WorkerInput.ExecSucceeded);
        WorkerStateMachine.Handle(_host, w, WorkerInput.Exited, FakeWorkerHost.ExitedWith(3));
    }

    [Fact]
    public void Start_NotifyMode_GoesThroughForkOnlineListening()
    {
        var w = StartReady(FakeWorkerHost.Group());

        Assert.Equal(WorkerState.Ready, w.State);
        Assert.Equal([LifecycleEventKinds.Fork, LifecycleEventKinds.Online, LifecycleEventKinds.Listening], _host.Events.Select(e => e.Kind));
        Assert.Equal(1, _host.Spawns);
    }

    [Fact]
    public void NotifyReady_BeforeExecOutcome_IsHonouredOnceOnline()
    {
        var w = FakeWorkerHost.Worker(FakeWorkerHost.Group());
        WorkerStateMachine.Handle(_host, w, WorkerInput.Start);
        WorkerStateMachine.Handle(_host, w, WorkerInput.Spawned, 100);

        WorkerStateMachine.Handle(_host, w, WorkerInput.NotifyReady);
        WorkerStateMachine.Handle(_host, w, WorkerInput.ExecSucceeded);

        Assert.Equal(WorkerState.Ready, w.State);
        Assert.Equal([LifecycleEventKinds.Fork, LifecycleEventKinds.Online, LifecycleEventKinds.Listening], _host.Events.Select(e => e.Kind));
    }

    [Fact]
    public void ExecSucceeded_NotifyMode_ArmsReadyTimeout()
    {
        var w = StartOnline(FakeWorkerHost.Group());

        Assert.Equal(WorkerState.Starting, w.State);
        Assert.Equal(TimeSpan.FromSeconds(30), _host.ArmedTimer(WorkerInput.StateTimer)!.Delay);
    }

    [Fact]
    public void StateTimer_StartedMode_BecomesReadyAfterMinUptime()
    {
        var w = StartOnline(FakeWorkerHost.Group(ready: ReadyMode.Started));
        Assert.Equal(TimeSpan.FromSeconds(1), _host.ArmedTimer(WorkerInput.StateTimer)!.Delay);

        WorkerStateMachine.Handle(_host, w, WorkerInput.StateTimer);

        Assert.Equal(WorkerState.Ready, w.State);
    }

    [Fact]
    public void StateTimer_NotifyModeNoReady_StopsWithReadyTimeout()
    {
        var w = StartOnline(FakeWorkerHost.Group());

        WorkerStateMachine.Handle(_host, w, WorkerInput.StateTimer);
        WorkerStateMachine.Handle(_host, w, WorkerInput.Exited, FakeWorkerHost.ExitedWith(0));

        Assert.Equal([15], _host.Signals);
        Assert.Contains(_host.Events, e => e.Kind == LifecycleEventKinds.Exit && e.Reason == ExitReasons.ReadyTimeout);
        Assert.Equal(WorkerState.Backoff, w.State);
    }

    [Fact]
    public void Exited_RepeatedCrashes_BackoffGrowsThenCapsThenFails()
    {
        var w = FakeWorkerHost.Worker(FakeWorkerHost.Group(maxRestarts: 5));
        WorkerStateMachine.Handle(_host, w, WorkerInput.Start);
        for (var i = 0; i < 6; i++)
        {
            Crash(w, 100 + i);
            if (w.State == WorkerState.Backoff)
            {
                WorkerStateMachine.Handle(_host, w, WorkerInput.StateTimer);
            }
        }

        var delays = _host.Events.Where(e => e.Kind == LifecycleEventKinds.Backoff).Select(e => e.Delay!.Value.TotalMilliseconds);
        Assert.Equal([100, 200, 400, 800, 1000], delays);
        Assert.Equal(WorkerState.Failed, w.State);
        Assert.Equal(LifecycleEventKinds.Failed, _host.Events[^1].Kind);
        Assert.Equal(6, _host.Spawns);
    }

    [Fact]
    public void Exited_AfterStayingReadyForRestartWindow_BackoffResets()
    {
        var w = StartReady(FakeWorkerHost.Group());
        WorkerStateMachine.Handle(_host, w, WorkerInput.Exited, FakeWorkerHost.ExitedWith(3));
        WorkerStateMachine.Handle(_host, w, WorkerInput.StateTimer);
        Crash(w, 101);
        WorkerStateMachine.Handle(_host, w, WorkerInput.StateTimer);
        WorkerStateMachine.Handle(_host, w, WorkerInput.Spawned, 102);
        WorkerStateMachine.Handle(_host, w, WorkerInput.ExecSucceeded);
        WorkerStateMachine.Handle(_host, w, WorkerInput.NotifyReady);

        _host.FakeTime.Advance(TimeSpan.FromSeconds(61));
        WorkerStateMachine.Handle(_host, w, WorkerInput.Exited, FakeWorkerHost.ExitedWith(3));

        // Ready, then dead: at once. Dead before ready: backoff.initial. Ready for restart_window, then dead: at once again.
        var delays = _host.Events.Where(e => e.Kind == LifecycleEventKinds.Backoff).Select(e => e.Delay!.Value.TotalMilliseconds);
        Assert.Equal([0, 100, 0], delays);
    }

    [Fact]
    public void Stop_WorkerIgnoresSignal_EscalatesToKill()
    {
        var w = StartReady(FakeWorkerHost.Group());

        WorkerStateMachine.Handle(_host, w, WorkerInput.Stop);
        Assert.Equal(WorkerState.Stopping, w.State);
        Assert.Equal(TimeSpan.FromSeconds(10), _host.ArmedTimer(WorkerInput.StateTimer)!.Delay);

        WorkerStateMachine.Handle(_host, w, WorkerInput.StateTimer);
        Assert.Equal(WorkerState.Killing, w.State);
        WorkerStateMachine.Handle(_host, w, WorkerInput.Exited, FakeWorkerHost.KilledBy(9));

        Assert.Equal([15, 9], _host.Signals);
        Assert.Contains(_host.Events, e => e.Kind == LifecycleEventKinds.Exit && e.Reason == ExitReasons.Killed && e.Signal == 9);
        Assert.Equal(WorkerState.Stopped, w.State);
    }

    [Fact]
    public void Drain_SignalsOnlyAfterDrainDelay_ThenStopsWithoutRestart()
    {
        var w = StartReady(FakeWorkerHost.Group());

        WorkerStateMachine.Handle(_host, w, WorkerInput.Drain);
        Assert.Equal(WorkerState.Draining, w.State);
        Assert.Empty(_host.Signals);
        Assert.Equal(TimeSpan.FromMilliseconds(100), _host.ArmedTimer(WorkerInput.StateTimer)!.Delay);
        Assert.Single(_host.Events, e => e.Kind == LifecycleEventKinds.Disconnect);

        WorkerStateMachine.Handle(_host, w, WorkerInput.StateTimer);
        Assert.Equal((WorkerState.Stopping, 15), (w.State, _host.Signals.Single()));
        Assert.Single(_host.Events, e => e.Kind == LifecycleEventKinds.Disconnect); // once, when the draining began
        WorkerStateMachine.Handle(_host, w, WorkerInput.Exited, FakeWorkerHost.ExitedWith(0));

        Assert.Equal(WorkerState.Stopped, w.State);
        Assert.Equal(1, _host.Spawns);
        Assert.Contains(_host.Events, e => e.Kind == LifecycleEventKinds.Exit && e.Reason == ExitReasons.Stopped);
    }

    [Fact]
    public void Stop_WhileDraining_SignalsAtOnce()
    {
        var w = StartReady(FakeWorkerHost.Group());
        WorkerStateMachine.Handle(_host, w, WorkerInput.Drain);

        WorkerStateMachine.Handle(_host, w, WorkerInput.Stop);

        Assert.Equal((WorkerState.Stopping, 15), (w.State, _host.Signals.Single()));
    }

    [Fact]
    public void Drain_NoDrainDelay_IsAStop()
    {
        var w = StartReady(FakeWorkerHost.Group() with { DrainDelay = TimeSpan.Zero });

        WorkerStateMachine.Handle(_host, w, WorkerInput.Drain);

        Assert.Equal((WorkerState.Stopping, 15), (w.State, _host.Signals.Single()));
    }

    [Fact]
    public void Stop_GracefulExit_RecordsStoppedAndDoesNotRestart()
    {
        var w = StartReady(FakeWorkerHost.Group());

        WorkerStateMachine.Handle(_host, w, WorkerInput.Stop);
        WorkerStateMachine.Handle(_host, w, WorkerInput.Exited, FakeWorkerHost.ExitedWith(0));

        Assert.Equal(WorkerState.Stopped, w.State);
        Assert.True(_host.ArmedTimer(WorkerInput.StateTimer) is null, "no timer may outlive the stop");
        Assert.Equal(1, _host.Spawns);
        Assert.Contains(_host.Events, e => e.Kind == LifecycleEventKinds.Disconnect);
        Assert.Contains(_host.Events, e => e.Kind == LifecycleEventKinds.Exit && e.Reason == ExitReasons.Stopped);
    }

    [Fact]
    public void Stop_BeforePidKnown_SignalsOnceSpawned()
    {
        var w = FakeWorkerHost.Worker(FakeWorkerHost.Group());
        WorkerStateMachine.Handle(_host, w, WorkerInput.Start);

        WorkerStateMachine.Handle(_host, w, WorkerInput.Stop);
        Assert.Empty(_host.Signals);
        WorkerStateMachine.Handle(_host, w, WorkerInput.Spawned, 100);

        Assert.Equal([15], _host.Signals);
        Assert.Equal(WorkerState.Stopping, w.State);
    }

    [Fact]
    public void Exited_KilledBySignalNotSentByUs_IsCrashed()
    {
        var w = StartReady(FakeWorkerHost.Group());

        WorkerStateMachine.Handle(_host, w, WorkerInput.Exited, FakeWorkerHost.KilledBy(11));

        Assert.Contains(_host.Events, e => e.Kind == LifecycleEventKinds.Exit && e.Reason == ExitReasons.Crashed && e.Signal == 11 && e.ExitCode is null);
    }

    [Theory]
    [InlineData("Never", 0, "Stopped")]
    [InlineData("Never", 1, "Stopped")]
    [InlineData("OnFailure", 0, "Stopped")]
    [InlineData("OnFailure", 1, "Backoff")]
    [InlineData("Always", 0, "Backoff")]
    public void Exited_ByPolicy_RestartsOrStays(string policy, int code, string expected)
    {
        var w = StartReady(FakeWorkerHost.Group(restart: Enum.Parse<RestartMode>(policy)));

        WorkerStateMachine.Handle(_host, w, WorkerInput.Exited, FakeWorkerHost.ExitedWith(code));

        Assert.Equal(Enum.Parse<WorkerState>(expected), w.State);
    }

    [Fact]
    public void Exited_AfterExecFailed_FailsWithoutRetrying()
    {
        var w = FakeWorkerHost.Worker(FakeWorkerHost.Group());
        WorkerStateMachine.Handle(_host, w, WorkerInput.Start);
        WorkerStateMachine.Handle(_host, w, WorkerInput.Spawned, 100);

        WorkerStateMachine.Handle(_host, w, WorkerInput.ExecFailed, text: "'nope' not found in PATH");
        WorkerStateMachine.Handle(_host, w, WorkerInput.Exited, FakeWorkerHost.ExitedWith(203));

        Assert.Equal(WorkerState.Failed, w.State);
        Assert.Contains(_host.Events, e => e.Kind == LifecycleEventKinds.Exit && e.Reason == ExitReasons.ExecFailed);
        Assert.Equal(1, _host.Spawns);
    }

    [Fact]
    public void WatchdogTimer_WorkerSilent_StopsWithAbortAndRecordsWatchdog()
    {
        var w = StartReady(FakeWorkerHost.Group(watchdog: TimeSpan.FromSeconds(2)));
        var first = _host.ArmedTimer(WorkerInput.WatchdogTimer)!;
        WorkerStateMachine.Handle(_host, w, WorkerInput.NotifyWatchdog);
        Assert.True(first.Disposed, "a keep-alive re-arms the watchdog");

        WorkerStateMachine.Handle(_host, w, WorkerInput.WatchdogTimer);
        WorkerStateMachine.Handle(_host, w, WorkerInput.Exited, FakeWorkerHost.KilledBy(6));

        Assert.Equal([6], _host.Signals);
        Assert.Contains(_host.Events, e => e.Kind == LifecycleEventKinds.Exit && e.Reason == ExitReasons.Watchdog);
    }

    [Fact]
    public void Handle_InputMeaninglessInState_ReturnsFalse()
    {
        var w = StartReady(FakeWorkerHost.Group());

        Assert.False(WorkerStateMachine.Handle(_host, w, WorkerInput.ExecSucceeded));
        Assert.Equal(WorkerState.Ready, w.State);
    }

    [Fact]
    public void SpawnFailed_Permanent_FailsAtOnce()
    {
        var w = FakeWorkerHost.Worker(FakeWorkerHost.Group());
        WorkerStateMachine.Handle(_host, w, WorkerInput.Start);

        WorkerStateMachine.Handle(_host, w, WorkerInput.SpawnFailed, text: "no such user 'nobodyx'");

        Assert.Equal(WorkerState.Failed, w.State);
        Assert.Equal(1, _host.Spawns);
    }

    [Fact]
    public void SpawnFailed_Transient_BacksOffAndRetriesUntilMaxRestarts()
    {
        var w = FakeWorkerHost.Worker(FakeWorkerHost.Group(maxRestarts: 2));
        WorkerStateMachine.Handle(_host, w, WorkerInput.Start);

        for (var i = 0; i < 3; i++)
        {
            WorkerStateMachine.Handle(_host, w, WorkerInput.SpawnFailed, text: "pipe2 failed: EMFILE", transient: true);
            if (w.State == WorkerState.Backoff)
            {
                WorkerStateMachine.Handle(_host, w, WorkerInput.StateTimer);
            }
        }

        Assert.Equal(3, _host.Spawns);
        Assert.Equal(2, _host.Events.Count(e => e.Kind == LifecycleEventKinds.Backoff));
        Assert.Equal(WorkerState.Failed, w.State);
    }

    [Fact]
    public void ExecFailed_Transient_BacksOffInsteadOfFailing()
    {
        var w = FakeWorkerHost.Worker(FakeWorkerHost.Group());
        WorkerStateMachine.Handle(_host, w, WorkerInput.Start);
        WorkerStateMachine.Handle(_host, w, WorkerInput.Spawned, 100);

        WorkerStateMachine.Handle(_host, w, WorkerInput.ExecFailed, text: "cannot execute: Resource temporarily unavailable", transient: true);
        WorkerStateMachine.Handle(_host, w, WorkerInput.Exited, FakeWorkerHost.ExitedWith(203));

        Assert.Equal(WorkerState.Backoff, w.State);
        Assert.Contains(_host.Events, e => e.Kind == LifecycleEventKinds.Exit && e.Reason == ExitReasons.ExecFailed);
    }

    [Fact]
    public void StateTimer_SpawningWithoutAProcess_GivesUpOnTheSpawnAndBacksOff()
    {
        var w = FakeWorkerHost.Worker(FakeWorkerHost.Group());
        WorkerStateMachine.Handle(_host, w, WorkerInput.Start);
        Assert.Equal(TimeSpan.FromSeconds(30), _host.ArmedTimer(WorkerInput.StateTimer)!.Delay);
        var incarnation = w.Incarnation;

        WorkerStateMachine.Handle(_host, w, WorkerInput.StateTimer);

        Assert.Equal(WorkerState.Backoff, w.State);
        Assert.Contains(_host.Events, e => e.Kind == LifecycleEventKinds.Exit && e.Reason == ExitReasons.ReadyTimeout);
        WorkerStateMachine.Handle(_host, w, WorkerInput.StateTimer);
        Assert.Equal((WorkerState.Spawning, incarnation + 1), (w.State, w.Incarnation));
    }

    [Fact]
    public void Spawned_AfterAWaitInTheSpawnQueue_GivesTheExecOutcomeAFullReadyTimeout()
    {
        var w = FakeWorkerHost.Worker(FakeWorkerHost.Group());
        WorkerStateMachine.Handle(_host, w, WorkerInput.Start);
        var queued = _host.ArmedTimer(WorkerInput.StateTimer)!;

        WorkerStateMachine.Handle(_host, w, WorkerInput.Spawned, 100);

        var forked = _host.ArmedTimer(WorkerInput.StateTimer)!;
        Assert.True(queued.Disposed);
        Assert.NotSame(queued, forked);
        Assert.Equal(TimeSpan.FromSeconds(30), forked.Delay);
    }

    [Fact]
    public void StateTimer_SpawningWithoutAProcessWhileTheQueueMoves_WaitsOnWithoutGivingUp()
    {
        var w = FakeWorkerHost.Worker(FakeWorkerHost.Group());
        WorkerStateMachine.Handle(_host, w, WorkerInput.Start);
        var incarnation = w.Incarnation;
        _host.SpawnerMoving = true;

        WorkerStateMachine.Handle(_host, w, WorkerInput.StateTimer);

        Assert.Equal((WorkerState.Spawning, incarnation), (w.State, w.Incarnation));
        Assert.Empty(_host.Events);
        Assert.Equal(TimeSpan.FromSeconds(30), _host.ArmedTimer(WorkerInput.StateTimer)!.Delay);
        Assert.Equal(1, _host.Spawns);
    }

    [Fact]
    public void StateTimer_SpawningWithAProcess_StopsItAsReadyTimeout()
    {
        var w = FakeWorkerHost.Worker(FakeWorkerHost.Group());
        WorkerStateMachine.Handle(_host, w, WorkerInput.Start);
        WorkerStateMachine.Handle(_host, w, WorkerInput.Spawned, 100);

        WorkerStateMachine.Handle(_host, w, WorkerInput.StateTimer);
        WorkerStateMachine.Handle(_host, w, WorkerInput.Exited, FakeWorkerHost.KilledBy(15));

        Assert.Equal([15], _host.Signals);
        Assert.Contains(_host.Events, e => e.Kind == LifecycleEventKinds.Exit && e.Reason == ExitReasons.ReadyTimeout);
        Assert.Equal(WorkerState.Backoff, w.State);
    }

    [Fact]
    public void MainExited_ProcessesLeftBehind_AreStoppedAndTheSlotRestartsOnlyOnceTheyAreGone()
    {
        var w = StartReady(FakeWorkerHost.Group());

        WorkerStateMachine.Handle(_host, w, WorkerInput.MainExited, FakeWorkerHost.KilledBy(9));

        Assert.Equal((WorkerState.Stopping, 15), (w.State, _host.Signals.Single()));
        Assert.Contains(_host.Events, e => e.Kind == LifecycleEventKinds.Exit && e.Reason == ExitReasons.Crashed && e.Signal == 9);
        Assert.Equal(1, _host.Spawns);

        WorkerStateMachine.Handle(_host, w, WorkerInput.TreeGone);

        Assert.Equal(WorkerState.Backoff, w.State);
        Assert.Equal(ExitReasons.Crashed, w.LastExit!.Reason);
    }

    [Fact]
    public void MainExited_LeftoversIgnoreTheStopSignal_AreKilledAfterStopTimeout()
    {
        var w = StartReady(FakeWorkerHost.Group());
        WorkerStateMachine.Handle(_host, w, WorkerInput.MainExited, FakeWorkerHost.ExitedWith(1));
        Assert.Equal(TimeSpan.FromSeconds(10), _host.ArmedTimer(WorkerInput.StateTimer)!.Delay);

        WorkerStateMachine.Handle(_host, w, WorkerInput.StateTimer);
        Assert.Equal(WorkerState.Killing, w.State);
        WorkerStateMachine.Handle(_host, w, WorkerInput.TreeGone);

        Assert.Equal([15, 9], _host.Signals);
        Assert.Equal((WorkerState.Backoff, ExitReasons.Exited), (w.State, w.LastExit!.Reason));
    }

    [Fact]
    public void MainExited_WhileStopping_KeepsItsDeadlineAndSendsNothingMore()
    {
        var w = StartReady(FakeWorkerHost.Group());
        WorkerStateMachine.Handle(_host, w, WorkerInput.Stop);
        var deadline = _host.ArmedTimer(WorkerInput.StateTimer);

        WorkerStateMachine.Handle(_host, w, WorkerInput.MainExited, FakeWorkerHost.ExitedWith(0));

        Assert.Equal([15], _host.Signals);
        Assert.Same(deadline, _host.ArmedTimer(WorkerInput.StateTimer));
        WorkerStateMachine.Handle(_host, w, WorkerInput.TreeGone);
        Assert.Equal((WorkerState.Stopped, ExitReasons.Stopped), (w.State, w.LastExit!.Reason));
    }

    [Fact]
    public void TreeGone_WithoutAMainExitFirst_IsIgnored()
    {
        var w = StartReady(FakeWorkerHost.Group());
        WorkerStateMachine.Handle(_host, w, WorkerInput.Stop);

        Assert.False(WorkerStateMachine.Handle(_host, w, WorkerInput.TreeGone));
        Assert.Equal(WorkerState.Stopping, w.State);
    }

    [Fact]
    public void Exited_AWorkerThatWasServing_IsReplacedAtOnce_ThenBacksOffIfItKeepsDying()
    {
        var w = StartReady(FakeWorkerHost.Group());

        for (var pid = 101; pid <= 103; pid++)
        {
            WorkerStateMachine.Handle(_host, w, WorkerInput.Exited, FakeWorkerHost.KilledBy(9));
            WorkerStateMachine.Handle(_host, w, WorkerInput.StateTimer);
            WorkerStateMachine.Handle(_host, w, WorkerInput.Spawned, pid);
            WorkerStateMachine.Handle(_host, w, WorkerInput.ExecSucceeded);
            WorkerStateMachine.Handle(_host, w, WorkerInput.NotifyReady);
        }

        var delays = _host.Events.Where(e => e.Kind == LifecycleEventKinds.Backoff).Select(e => e.Delay!.Value.TotalMilliseconds);
        Assert.Equal([0, 100, 200], delays);
    }
}
