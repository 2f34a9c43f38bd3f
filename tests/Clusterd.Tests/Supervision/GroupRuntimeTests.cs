using Clusterd.Sockets;
using Clusterd.Supervision;

namespace Clusterd.Tests.Supervision;

public sealed class GroupRuntimeTests
{
    private static GroupRuntime Group(int workers) =>
        new(FakeWorkerHost.Group() with { Workers = workers }, GroupListeners.Bind(FakeWorkerHost.Group()), generation: 1);

    [Fact]
    public void AllWorkersBySlot_NothingInFlight_IsTheSlotsThemselves()
    {
        var group = Group(3);

        Assert.Same(group.Workers, group.AllWorkersBySlot);
        Assert.Equal([0, 1, 2], group.AllWorkersBySlot.Select(w => w.Slot));
    }

    [Fact]
    public void AllWorkersBySlot_SurgeAndRetiring_BySlotThenCurrentSurgeRetiring()
    {
        var group = Group(3);
        var surge = new Worker(group, 2);
        var retiringFirst = new Worker(group, 0);
        var retiringLast = new Worker(group, 4);
        group.Surge.Add(surge);
        group.Retiring.Add(retiringLast);
        group.Retiring.Add(retiringFirst);

        Assert.Equal([group.Workers[0], retiringFirst, group.Workers[1], group.Workers[2], surge, retiringLast], group.AllWorkersBySlot);
        Assert.Equal(group.AllWorkers.OrderBy(w => w.Slot), group.AllWorkersBySlot);
    }

    [Fact]
    public void SnapshotWorkers_NothingChanged_IsTheSameArray_AndAChangeRemakesOnlyItsWorker()
    {
        var group = Group(3);
        var first = group.SnapshotWorkers();

        Assert.Same(first.Workers, group.SnapshotWorkers().Workers);

        group.Workers[1].State = WorkerState.Ready;
        var second = group.SnapshotWorkers();

        Assert.NotSame(first.Workers, second.Workers);
        Assert.Same(first.Workers[0], second.Workers[0]);
        Assert.Same(first.Workers[2], second.Workers[2]);
        Assert.Equal((Protocol.PublicWorkerState.Ready, 1, 0), (second.Workers[1].State, second.Ready, second.Failed));
    }

    /// <summary>
    /// Whatever happens to a group, what it shows is what it holds: random changes of every kind the loop makes (and the
    /// capture threads', and the health checks'), each followed by a look, against the workers themselves.
    /// </summary>
    [Fact]
    public void SnapshotWorkers_AfterAnySequenceOfChanges_ShowsEveryWorkerAsItIs()
    {
        var random = new Random(20261201);
        var group = Group(8);
        WorkerState[] states = [WorkerState.Stopped, WorkerState.Spawning, WorkerState.Starting, WorkerState.Ready, WorkerState.Stopping, WorkerState.Backoff, WorkerState.Failed];
        for (var step = 0; step < 2000; step++)
        {
            var w = group.Workers[random.Next(group.Workers.Count)];
            switch (random.Next(10))
            {
                case 0 or 1 or 2: w.State = states[random.Next(states.Length)]; break;
                case 3: w.Pid = random.Next(1, 100000); break;
                case 4: w.Status = $"status {step}"; break;
                case 5: w.Restarts++; break;
                case 6:
                    Interlocked.Increment(ref w.DroppedOutputLines); // as OutputCapture counts a dropped line
                    Interlocked.Increment(ref group.DroppedOutputLines);
                    break;
                case 7:
                    (w.Health ??= new Clusterd.Supervision.Health.WorkerHealth(w.Incarnation)).LastCheck = (random.Next(2) == 0, TimeSpan.FromMilliseconds(step), null);
                    break;
                case 8:
                    var replacement = new Worker(group, w.Slot) { State = states[random.Next(states.Length)], Pid = step + 1 };
                    group.Surge.Add(replacement);
                    if (random.Next(2) == 0)
                    {
                        group.SnapshotWorkers(); // seen while in flight
                    }
                    group.Surge.Remove(replacement);
                    group.Workers[w.Slot] = replacement; // promoted
                    break;
                default:
                    break; // nothing: the same again
            }
            if (random.Next(3) == 0)
            {
                continue; // several changes in one burst
            }

            var (shown, ready, failed) = group.SnapshotWorkers();

            Assert.Equal(group.Workers.Select(Expected), shown.Select(s => (s.Slot, s.Pid, s.State, s.Status, s.Restarts, s.DroppedOutputLines, s.HealthPassed, s.HealthLatencySeconds)));
            Assert.Equal(group.Workers.Count(x => x.State == WorkerState.Ready), ready);
            Assert.Equal(group.Workers.Count(x => x.State == WorkerState.Failed), failed);
        }

        static (int, int, Protocol.PublicWorkerState, string?, int, long, bool?, double?) Expected(Worker w) =>
            (w.Slot, w.Pid, WorkerStateMachine.PublicState(w.State), w.Status, w.Restarts, w.DroppedOutputLines, w.Health?.LastCheck?.Passed, w.Health?.LastCheck?.Latency.TotalSeconds);
    }
}
