using System.Diagnostics.Metrics;
using System.Reflection;
using Clusterd.Control;
using Clusterd.Logging;
using Clusterd.Platform;
using Clusterd.Protocol;
using Clusterd.Supervision;

namespace Clusterd.Metrics;

/// <summary>
/// Everything clusterd exposes to Prometheus, on one <see cref="Meter"/> named <c>clusterd</c>. The instrument names
/// below are the Prometheus names without the suffixes the OpenTelemetry exporter appends (<c>_total</c> for
/// counters, <c>_seconds</c>/<c>_bytes</c> from the unit); docs/metrics.md lists the names as scraped.
/// <para>
/// Event counts are fed by <see cref="LifecycleJournal.Appended"/> on the supervisor loop, so nothing is missed
/// between scrapes. They are kept here and reported through observable counters rather than
/// <see cref="Counter{T}"/>: that way every (group, event) and (group, reason) series is reported from the first
/// scrape, at 0, so <c>rate()</c> and <c>increase()</c> see the first crash instead of a series appearing out of
/// nothing; and an event the loop records before the exporter's listener subscribes still counts.
/// </para>
/// <para>Labels stay bounded: group names and slot indexes from the config, never pids.</para>
/// </summary>
internal sealed partial class ClusterdMetrics : IDisposable, IReloadListener
{
    public const string MeterName = "clusterd";

    public const string WorkerEvents = "clusterd_worker_events";
    public const string WorkerExits = "clusterd_worker_exits";
    public const string WorkerRestarts = "clusterd_worker_restarts";
    public const string Workers = "clusterd_workers";
    public const string GroupDesiredWorkers = "clusterd_group_desired_workers";
    public const string GroupReadyWorkers = "clusterd_group_ready_workers";
    public const string WorkerStartup = "clusterd_worker_startup";
    public const string WorkerCpu = "clusterd_worker_cpu";
    public const string WorkerResidentMemory = "clusterd_worker_resident_memory";
    public const string ListenerQueueLength = "clusterd_listener_queue_length";
    public const string ListenerQueueLimit = "clusterd_listener_queue_limit";
    public const string ConfigReloads = "clusterd_config_reloads";
    public const string BuildInfo = "clusterd_build_info";
    public const string HealthChecks = "clusterd_health_checks";
    public const string HealthCheck = "clusterd_health_check";
    public const string LogLinesDropped = "clusterd_log_lines_dropped";

    public static readonly IReadOnlyList<string> EventKinds =
    [
        LifecycleEventKinds.Fork, LifecycleEventKinds.Online, LifecycleEventKinds.Listening, LifecycleEventKinds.Disconnect,
        LifecycleEventKinds.Exit, LifecycleEventKinds.Restart, LifecycleEventKinds.Backoff, LifecycleEventKinds.Failed,
    ];

    public static readonly IReadOnlyList<string> ExitReasonValues =
    [
        ExitReasons.Exited, ExitReasons.Crashed, ExitReasons.Stopped, ExitReasons.Killed, ExitReasons.Watchdog,
        ExitReasons.ReadyTimeout, ExitReasons.ExecFailed, ExitReasons.Oom, ExitReasons.MemoryLimit, ExitReasons.Unhealthy,
        ExitReasons.MaxLifetime,
    ];

    /// <summary>From a worker that is up at once (10 ms) to one that loads for a minute; Prometheus's defaults stop at 10 s.</summary>
    public static readonly IReadOnlyList<double> StartupBuckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    /// <summary>From a check answered at once (1 ms) to one at the longest sensible timeout.</summary>
    public static readonly IReadOnlyList<double> HealthCheckBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly LifecycleJournal _journal;
    private readonly Func<ClusterSnapshot> _snapshot;
    private readonly Func<IReadOnlyList<ListenerSocket>> _listeners;
    private readonly Histogram<double> _startup;
    private readonly Histogram<double> _healthCheck;
    private readonly Action? _unsubscribe;
    private readonly LogDrops _logDrops;

    // Written on the supervisor loop, read by scrapes.
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Group, string Event), long> _events = [];
    private readonly Dictionary<(string Group, string Reason), long> _exits = [];
    private readonly Dictionary<string, long> _restarts = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Group, string Result), long> _healthChecks = [];
    private long _reloadSuccesses;
    private long _reloadFailures;

    // Loop thread only: when each slot's current process was forked, for the startup histogram.
    private readonly Dictionary<(string Group, int Slot), DateTimeOffset> _forkedAt = [];

    // Shared with status requests; the CPU and memory gauges of one scrape, milliseconds apart, read each file once.
    private readonly ProcessReadings _readings;

    public ClusterdMetrics(Supervisor supervisor, ProcessReadings readings)
        : this(supervisor.Journal, () => supervisor.Snapshot, () => supervisor.ListenerSockets, supervisor.LogDrops, readings)
    {
        supervisor.HealthChecked += RecordHealthCheck;
        _unsubscribe = () => supervisor.HealthChecked -= RecordHealthCheck;
    }

    /// <summary>For tests: any journal, snapshot and socket list.</summary>
    internal ClusterdMetrics(LifecycleJournal journal, Func<ClusterSnapshot> snapshot, Func<IReadOnlyList<ListenerSocket>> listeners,
        LogDrops? logDrops = null, ProcessReadings? readings = null)
    {
        _readings = readings ?? new ProcessReadings(TimeProvider.System);
        _journal = journal;
        _logDrops = logDrops ?? new LogDrops();
        _snapshot = snapshot;
        _listeners = listeners;
        Version = typeof(ClusterdMetrics).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        // No meter version: the exporter would put it on every series as otel_scope_version, and an upgrade would
        // then start new series for everything. The version is clusterd_build_info's job.
        Meter = new Meter(MeterName);

        Meter.CreateObservableCounter(WorkerEvents, ObserveEvents, "{event}",
            "Worker lifecycle events by kind (fork, online, listening, disconnect, exit, restart, backoff, failed).");
        Meter.CreateObservableCounter(WorkerExits, ObserveExits, "{exit}",
            "Worker process exits by reason (exited, crashed, stopped, killed, watchdog, ready-timeout, exec-failed, oom, memory-limit, unhealthy, max-lifetime).");
        Meter.CreateObservableCounter(WorkerRestarts, ObserveRestarts, "{restart}",
            "Restarts of a worker slot after its process died (after the backoff delay).");
        Meter.CreateObservableGauge(Workers, ObserveWorkers, "{worker}",
            "Worker slots by public state (starting, ready, stopping, backoff, failed, stopped).");
        Meter.CreateObservableGauge(GroupDesiredWorkers, () => ObserveGroups(g => g.Desired), "{worker}",
            "Workers the group is configured to run.");
        Meter.CreateObservableGauge(GroupReadyWorkers, () => ObserveGroups(g => g.Ready), "{worker}",
            "Workers of the group that are ready (READY=1 received, or up for min_uptime).");
        _startup = Meter.CreateHistogram(WorkerStartup, "s",
            "Time from fork to ready (the listening event) of each worker process.", tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = StartupBuckets });
        Meter.CreateObservableCounter(WorkerCpu, ObserveCpu, "s",
            "CPU time (user + system) used by the slot's current worker process; resets when the slot restarts.");
        Meter.CreateObservableGauge(WorkerResidentMemory, ObserveMemory, "By",
            "Resident set size of the slot's current worker process.");
        Meter.CreateObservableGauge(ListenerQueueLength, () => ObserveQueues(limit: false), "{connection}",
            "Connections accepted by the kernel but not yet by a worker, summed over the group's sockets for the address (Linux, TCP).");
        Meter.CreateObservableGauge(ListenerQueueLimit, () => ObserveQueues(limit: true), "{connection}",
            "Accept-queue limit (listen backlog, capped by net.core.somaxconn), summed over the group's sockets for the address (Linux, TCP).");
        Meter.CreateObservableCounter(HealthChecks, ObserveHealthChecks, "{check}",
            "Active health checks of workers by result (pass, fail).");
        _healthCheck = Meter.CreateHistogram(HealthCheck, "s",
            "Time each active health check took (to its answer, or to its timeout).", tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = HealthCheckBuckets });
        Meter.CreateObservableCounter(ConfigReloads, ObserveReloads, "{reload}",
            "Configuration reloads by result (success, failure).");
        Meter.CreateObservableCounter(LogLinesDropped, ObserveLogDrops, "{line}",
            "Worker output lines clusterd let go, by reason (queue_full, rate_limit, slow_disk, disk_full, file_error, journal_busy, journal_error).");
        Meter.CreateObservableGauge(BuildInfo, () => new Measurement<int>(1, new KeyValuePair<string, object?>("version", Version)), "{build}",
            "Always 1; the version label is the clusterd that is running.");

        _journal.Appended += OnAppended;
    }

    public Meter Meter { get; }

    public string Version { get; }

    /// <summary>The hook for configuration reload: call once per reload attempt, on any thread.</summary>
    void IReloadListener.Reloaded(bool success) => RecordReload(success);

    public void RecordReload(bool success)
    {
        lock (_lock)
        {
            if (success)
            {
                _reloadSuccesses++;
            }
            else
            {
                _reloadFailures++;
            }
        }
    }

    /// <summary>One health check of a worker of <paramref name="group"/> (on the supervisor loop).</summary>
    public void RecordHealthCheck(string group, bool passed, TimeSpan latency)
    {
        lock (_lock)
        {
            Increment(_healthChecks, (group, passed ? "pass" : "fail"));
        }
        _healthCheck.Record(latency.TotalSeconds, new KeyValuePair<string, object?>("group", group));
    }

    private List<Measurement<long>> ObserveHealthChecks()
    {
        lock (_lock)
        {
            return _healthChecks.Select(c => new Measurement<long>(c.Value, Group(c.Key.Group), new("result", c.Key.Result))).ToList();
        }
    }

    private void OnAppended(LifecycleEvent e)
    {
        lock (_lock)
        {
            Increment(_events, (e.Group, e.Kind));
            if (e.Kind == LifecycleEventKinds.Exit && e.Reason is not null)
            {
                Increment(_exits, (e.Group, e.Reason));
            }
            if (e.Kind == LifecycleEventKinds.Restart)
            {
                Increment(_restarts, e.Group);
            }
        }
        switch (e.Kind)
        {
            case LifecycleEventKinds.Fork:
                _forkedAt[(e.Group, e.Slot)] = e.Time;
                break;
            case LifecycleEventKinds.Listening when _forkedAt.Remove((e.Group, e.Slot), out var forked):
                _startup.Record(Math.Max(0, (e.Time - forked).TotalSeconds), new KeyValuePair<string, object?>("group", e.Group));
                break;
            case LifecycleEventKinds.Exit:
                _forkedAt.Remove((e.Group, e.Slot)); // never became ready: not a startup time
                break;
        }
    }

    private static void Increment<TKey>(Dictionary<TKey, long> counts, TKey key)
        where TKey : notnull
    {
        counts[key] = counts.GetValueOrDefault(key) + 1;
    }

    /// <summary>Groups running now, plus any that counted something before a reload removed them (their totals stay).</summary>
    private IEnumerable<string> GroupNames(IEnumerable<string> counted) =>
        _snapshot().Groups.Select(g => g.Name).Union(counted, StringComparer.Ordinal);

    private List<Measurement<long>> ObserveEvents()
    {
        lock (_lock)
        {
            return GroupNames(_events.Keys.Select(k => k.Group))
                .SelectMany(g => EventKinds.Union(_events.Keys.Where(k => k.Group == g).Select(k => k.Event), StringComparer.Ordinal)
                    .Select(kind => new Measurement<long>(_events.GetValueOrDefault((g, kind)), Group(g), new("event", kind))))
                .ToList();
        }
    }

    private List<Measurement<long>> ObserveExits()
    {
        lock (_lock)
        {
            return GroupNames(_exits.Keys.Select(k => k.Group))
                .SelectMany(g => ExitReasonValues.Union(_exits.Keys.Where(k => k.Group == g).Select(k => k.Reason), StringComparer.Ordinal)
                    .Select(reason => new Measurement<long>(_exits.GetValueOrDefault((g, reason)), Group(g), new("reason", reason))))
                .ToList();
        }
    }

    private List<Measurement<long>> ObserveRestarts()
    {
        lock (_lock)
        {
            return GroupNames(_restarts.Keys).Select(g => new Measurement<long>(_restarts.GetValueOrDefault(g), Group(g))).ToList();
        }
    }

    private List<Measurement<long>> ObserveReloads()
    {
        lock (_lock)
        {
            return
            [
                new Measurement<long>(_reloadSuccesses, new KeyValuePair<string, object?>("result", "success")),
                new Measurement<long>(_reloadFailures, new KeyValuePair<string, object?>("result", "failure")),
            ];
        }
    }

    private List<Measurement<long>> ObserveLogDrops() =>
        GroupNames(_logDrops.Groups)
            .SelectMany(g => LogDrops.Reasons.Select(reason => new Measurement<long>(_logDrops.Get(g, reason), Group(g), new("reason", reason))))
            .ToList();

    private List<Measurement<int>> ObserveWorkers() =>
        _snapshot().Groups
            .SelectMany(g => PublicStates.Workers.Select(state => new Measurement<int>(g.Workers.Count(w => w.State == state), Group(g.Name), new("state", state.Name()))))
            .ToList();

    private List<Measurement<int>> ObserveGroups(Func<GroupSnapshot, int> value) =>
        _snapshot().Groups.Select(g => new Measurement<int>(value(g), Group(g.Name))).ToList();

    private List<Measurement<double>> ObserveCpu() =>
        ReadWorkers().Select(r => new Measurement<double>(r.Stat.CpuSeconds, Group(r.Group), Slot(r.Slot))).ToList();

    private List<Measurement<long>> ObserveMemory() =>
        ReadWorkers().Select(r => new Measurement<long>(r.Stat.ResidentBytes, Group(r.Group), Slot(r.Slot))).ToList();

    /// <summary>Each worker's /proc reading (<see cref="ProcessReadings"/>: shared with status, and by the CPU and the memory gauge of one scrape).</summary>
    private List<(string Group, int Slot, ProcessStat Stat)> ReadWorkers()
    {
        var workers = new List<(string, int, ProcessStat)>();
        foreach (var group in _snapshot().Groups)
        {
            var stats = _readings.Of(group.Workers).Stats;
            for (var i = 0; i < stats.Length; i++)
            {
                if (stats[i] is { } stat)
                {
                    workers.Add((group.Name, group.Workers[i].Slot, stat));
                }
            }
        }
        return workers;
    }

    private List<Measurement<long>> ObserveQueues(bool limit)
    {
        var sums = new Dictionary<(string Group, string Listen), long>();
        foreach (var socket in _listeners())
        {
            if (ListenQueue.TryRead(socket.Socket, out var length, out var max))
            {
                var key = (socket.Group, socket.Listen);
                sums[key] = sums.GetValueOrDefault(key) + (limit ? max : length);
            }
        }
        return sums.Select(s => new Measurement<long>(s.Value, Group(s.Key.Group), new("listen", s.Key.Listen))).ToList();
    }

    private static KeyValuePair<string, object?> Group(string name) => new("group", name);

    private static KeyValuePair<string, object?> Slot(int slot) => new("slot", slot.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public void Dispose()
    {
        _journal.Appended -= OnAppended;
        _unsubscribe?.Invoke();
        Meter.Dispose();
    }
}
