using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Clusterd.Metrics;
using Clusterd.Protocol;
using Clusterd.Supervision;

namespace Clusterd.Tests.Metrics;

public sealed class ClusterdMetricsTests : IDisposable
{
    private static readonly DateTimeOffset s_t0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly LifecycleJournal _journal = new();
    private readonly List<ListenerSocket> _sockets = [];
    private ClusterSnapshot _snapshot = ClusterSnapshot.Empty;
    private readonly ClusterdMetrics _metrics;

    public ClusterdMetricsTests()
    {
        _metrics = new ClusterdMetrics(_journal, () => _snapshot, () => _sockets);
    }

    public void Dispose()
    {
        _metrics.Dispose();
        _sockets.ForEach(s => s.Socket.Dispose());
    }

    private void Append(string kind, int slot = 0, string? reason = null, double atSeconds = 0, string group = "web") =>
        _journal.Append(seq => new LifecycleEvent(seq, s_t0.AddSeconds(atSeconds), kind, group, slot, 100 + slot, 1, reason));

    private static WorkerSnapshot Worker(int slot, PublicWorkerState state, int pid = 0) =>
        new(slot, pid, state, 1, 0, null, null, null, null, null, null, 0);

    private static GroupSnapshot Group(string name, int desired, params WorkerSnapshot[] workers) =>
        new(name, desired, false, workers.Count(w => w.State == PublicWorkerState.Ready), 1, [], workers, desired, Clusterd.Config.GroupConfig.WorkersFromConfig);

    /// <summary>Every measurement of one instrument of this test's meter, with its tags as "k=v,k=v" (sorted).</summary>
    private List<(string Tags, double Value)> Collect(string instrument)
    {
        var result = new List<(string, double)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) =>
        {
            if (i.Meter == _metrics.Meter && i.Name == instrument)
            {
                l.EnableMeasurementEvents(i);
            }
        };
        void Add(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
            result.Add((string.Join(',', tags.ToArray().OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={t.Value}")), value));
        listener.SetMeasurementEventCallback<long>((_, v, tags, _) => Add(v, tags));
        listener.SetMeasurementEventCallback<int>((_, v, tags, _) => Add(v, tags));
        listener.SetMeasurementEventCallback<double>((_, v, tags, _) => Add(v, tags));
        listener.Start();
        listener.RecordObservableInstruments();
        return result;
    }

    private double Value(string instrument, string tags) =>
        Collect(instrument).Where(m => m.Tags == tags).Select(m => m.Value).DefaultIfEmpty(double.NaN).Single();

    [Fact]
    public void Events_CountedPerGroupAndKind_FromTheJournal()
    {
        _snapshot = new ClusterSnapshot(s_t0, [Group("web", 2)]);
        Append(LifecycleEventKinds.Fork, 0);
        Append(LifecycleEventKinds.Fork, 1);
        Append(LifecycleEventKinds.Exit, 1, ExitReasons.Crashed);
        Append(LifecycleEventKinds.Restart, 1);

        Assert.Equal(2, Value(ClusterdMetrics.WorkerEvents, "event=fork,group=web"));
        Assert.Equal(1, Value(ClusterdMetrics.WorkerEvents, "event=exit,group=web"));
        Assert.Equal(1, Value(ClusterdMetrics.WorkerEvents, "event=restart,group=web"));
        Assert.Equal(1, Value(ClusterdMetrics.WorkerExits, "group=web,reason=crashed"));
        Assert.Equal(1, Value(ClusterdMetrics.WorkerRestarts, "group=web"));
    }

    [Fact]
    public void Counters_NothingHappenedYet_ReportZeroForEveryKindAndReason()
    {
        _snapshot = new ClusterSnapshot(s_t0, [Group("web", 1), Group("api", 1)]);

        var events = Collect(ClusterdMetrics.WorkerEvents);
        var exits = Collect(ClusterdMetrics.WorkerExits);

        Assert.Equal(2 * ClusterdMetrics.EventKinds.Count, events.Count);
        Assert.Equal(2 * ClusterdMetrics.ExitReasonValues.Count, exits.Count);
        Assert.All(events.Concat(exits), m => Assert.Equal(0, m.Value));
        Assert.Equal(0, Value(ClusterdMetrics.WorkerRestarts, "group=api"));
        Assert.Equal(0, Value(ClusterdMetrics.ConfigReloads, "result=success"));
        Assert.Equal(0, Value(ClusterdMetrics.ConfigReloads, "result=failure"));
    }

    [Fact]
    public void Workers_ReportEveryStateOfEveryGroup_ZeroIncluded()
    {
        _snapshot = new ClusterSnapshot(s_t0, [Group("web", 3, Worker(0, PublicWorkerState.Ready, 10), Worker(1, PublicWorkerState.Ready, 11), Worker(2, PublicWorkerState.Backoff))]);

        var workers = Collect(ClusterdMetrics.Workers);

        Assert.Equal(PublicStates.Workers.Count, workers.Count);
        Assert.Equal(2, Value(ClusterdMetrics.Workers, "group=web,state=ready"));
        Assert.Equal(1, Value(ClusterdMetrics.Workers, "group=web,state=backoff"));
        Assert.Equal(0, Value(ClusterdMetrics.Workers, "group=web,state=failed"));
        Assert.Equal(3, Value(ClusterdMetrics.GroupDesiredWorkers, "group=web"));
        Assert.Equal(2, Value(ClusterdMetrics.GroupReadyWorkers, "group=web"));
    }

    [Fact]
    public void Startup_ForkThenListening_RecordsTheDelayInSeconds()
    {
        var recorded = new List<double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) =>
        {
            if (i.Meter == _metrics.Meter && i.Name == ClusterdMetrics.WorkerStartup)
            {
                l.EnableMeasurementEvents(i);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, v, _, _) => recorded.Add(v));
        listener.Start();

        Append(LifecycleEventKinds.Fork, 0, atSeconds: 10);
        Append(LifecycleEventKinds.Fork, 1, atSeconds: 10);
        Append(LifecycleEventKinds.Exit, 1, ExitReasons.ReadyTimeout, atSeconds: 40); // never ready: no sample
        Append(LifecycleEventKinds.Listening, 0, atSeconds: 11.5);

        Assert.Equal([1.5], recorded);
    }

    [Fact]
    public void CpuAndMemory_ReadPerSlotFromTheWorkersPid()
    {
        _snapshot = new ClusterSnapshot(s_t0, [Group("web", 2, Worker(0, PublicWorkerState.Ready, Environment.ProcessId), Worker(1, PublicWorkerState.Backoff))]);

        var memory = Collect(ClusterdMetrics.WorkerResidentMemory);
        var cpu = Collect(ClusterdMetrics.WorkerCpu);

        Assert.Equal("group=web,slot=0", Assert.Single(memory).Tags); // slot 1 has no process: no series
        Assert.True(memory[0].Value > 1_000_000);
        Assert.Equal("group=web,slot=0", Assert.Single(cpu).Tags);
        Assert.True(cpu[0].Value > 0);
    }

    [Fact]
    public async Task ListenerQueue_SumsTheGroupsSocketsPerAddress()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // TCP_INFO on a listener is Linux-only
        }
        var port = 0;
        for (var slot = 0; slot < 2; slot++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            socket.Listen(4);
            port = ((IPEndPoint)socket.LocalEndPoint!).Port;
            _sockets.Add(new ListenerSocket("web", "127.0.0.1:8080", socket));
        }
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));

        Assert.Equal(1, Value(ClusterdMetrics.ListenerQueueLength, "group=web,listen=127.0.0.1:8080"));
        Assert.Equal(8, Value(ClusterdMetrics.ListenerQueueLimit, "group=web,listen=127.0.0.1:8080"));

        _sockets[0].Socket.Dispose(); // closed by the loop after the list was published: skipped, not an error
        Assert.Equal(1, Value(ClusterdMetrics.ListenerQueueLength, "group=web,listen=127.0.0.1:8080"));
    }

    [Fact]
    public void RecordReload_CountsByResult()
    {
        _metrics.RecordReload(success: true);
        _metrics.RecordReload(success: false);
        _metrics.RecordReload(success: false);

        Assert.Equal(1, Value(ClusterdMetrics.ConfigReloads, "result=success"));
        Assert.Equal(2, Value(ClusterdMetrics.ConfigReloads, "result=failure"));
    }

    [Fact]
    public void BuildInfo_IsOneWithTheVersion()
    {
        var info = Assert.Single(Collect(ClusterdMetrics.BuildInfo));

        Assert.Equal(1, info.Value);
        Assert.Equal($"version={_metrics.Version}", info.Tags);
        Assert.NotEqual("unknown", _metrics.Version);
    }
}
