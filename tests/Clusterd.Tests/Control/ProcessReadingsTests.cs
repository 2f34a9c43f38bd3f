using Clusterd.Control;
using Clusterd.Platform;
using Clusterd.Protocol;
using Clusterd.Supervision;
using Microsoft.Extensions.Time.Testing;

namespace Clusterd.Tests.Control;

public sealed class ProcessReadingsTests
{
    private static readonly DateTimeOffset s_spawned = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new();
    private readonly List<int> _reads = [];
    private readonly ProcessReadings _readings;

    public ProcessReadingsTests()
    {
        _readings = new ProcessReadings(_time, worker =>
        {
            var pid = worker.Pid;
            lock (_reads)
            {
                _reads.Add(pid);
            }
            return new ProcessStat(pid / 100.0, pid * 1000L);
        });
    }

    private static WorkerSnapshot Worker(int slot, int pid, DateTimeOffset? spawned = null) =>
        new(slot, pid, PublicWorkerState.Ready, 1, 0, spawned ?? s_spawned, null, null, null, null, null, 0);

    [Fact]
    public void Of_AskedAgainWithinMaxAge_SharesTheReadings()
    {
        WorkerSnapshot[] workers = [Worker(0, 101), Worker(1, 102)];

        var first = _readings.Of(workers);
        _time.Advance(ProcessReadings.MaxAge - TimeSpan.FromTicks(1));
        var second = _readings.Of(workers);

        Assert.Equal(first.Stats, second.Stats);
        Assert.Equal([101, 102], _reads.Order());
        Assert.Equal(new ProcessStat(1.01, 101_000), second.Stats[0]);
    }

    [Fact]
    public void Of_SharedReadings_SayWhenTheOldestWasTaken()
    {
        var readAt = _time.GetUtcNow();
        _readings.Of([Worker(0, 101)]);
        _time.Advance(TimeSpan.FromMilliseconds(600));

        // 101's reading is kept from before; 102's is taken now: the answer is as old as the oldest.
        var readings = _readings.Of([Worker(0, 101), Worker(1, 102)]);

        Assert.Equal(readAt, readings.ReadAt);
        _time.Advance(TimeSpan.FromMilliseconds(600));
        Assert.Equal(_time.GetUtcNow(), _readings.Of([Worker(0, 101)]).ReadAt);
    }

    [Fact]
    public void Of_AfterMaxAge_ReadsAgain()
    {
        WorkerSnapshot[] workers = [Worker(0, 101)];

        _readings.Of(workers);
        _time.Advance(ProcessReadings.MaxAge);
        _readings.Of(workers);

        Assert.Equal([101, 101], _reads);
    }

    [Fact]
    public void Of_ARecycledPidOfANewProcess_IsReadAnew()
    {
        _readings.Of([Worker(0, 101)]);

        _readings.Of([Worker(0, 101, s_spawned.AddSeconds(5))]);

        Assert.Equal([101, 101], _reads);
    }

    [Fact]
    public void Of_ASlotWithoutAProcess_HasNoReadingAndIsNotRead()
    {
        var readings = _readings.Of([Worker(0, 0, spawned: null)]);

        Assert.Null(Assert.Single(readings.Stats));
        Assert.Null(readings.ReadAt);
        Assert.Empty(_reads);
    }
}
