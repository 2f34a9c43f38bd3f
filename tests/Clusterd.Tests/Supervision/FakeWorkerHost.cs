using Clusterd.Config;
using Clusterd.Sockets;
using Clusterd.Supervision;
using Microsoft.Extensions.Time.Testing;

namespace Clusterd.Tests.Supervision;

/// <summary>Records what the state machine asks for; nothing forks, sleeps or opens a socket.</summary>
internal sealed class FakeWorkerHost : IWorkerHost
{
    public FakeTimeProvider FakeTime { get; } = new(new DateTimeOffset(2026, 11, 26, 0, 0, 0, TimeSpan.Zero));

    public TimeProvider Time => FakeTime;

    public int Spawns { get; private set; }

    public List<int> Signals { get; } = [];

    public List<(string Kind, string? Reason, int? ExitCode, int? Signal, TimeSpan? Delay)> Events { get; } = [];

    public List<FakeTimer> Timers { get; } = [];

    public FakeTimer? ArmedTimer(WorkerInput input) => Timers.LastOrDefault(t => t.Input == input && !t.Disposed);

    public void Spawn(Worker worker) => Spawns++;

    /// <summary>What <see cref="SpawnerMovedWithin"/> answers: false, a stuck spawner, unless a test says otherwise.</summary>
    public bool SpawnerMoving { get; set; }

    public bool SpawnerMovedWithin(TimeSpan within) => SpawnerMoving;

    public void Signal(Worker worker, int signal) => Signals.Add(signal);

    public IDisposable ArmTimer(Worker worker, WorkerInput input, TimeSpan delay)
    {
        var timer = new FakeTimer(input, delay);
        Timers.Add(timer);
        return timer;
    }

    public void Record(Worker worker, string kind, string? reason = null, int? exitCode = null, int? signal = null, TimeSpan? delay = null) =>
        Events.Add((kind, reason, exitCode, signal, delay));

    public void StateChanged(Worker worker, WorkerState from, WorkerState to, string why)
    {
    }

    /// <summary>The wait status of a child that called exit(<paramref name="code"/>).</summary>
    public static int ExitedWith(int code) => code << 8;

    /// <summary>The wait status of a child killed by <paramref name="signal"/>.</summary>
    public static int KilledBy(int signal) => signal;

    public static GroupConfig Group(
        ReadyMode ready = ReadyMode.Notify,
        RestartMode restart = RestartMode.Always,
        int maxRestarts = 10,
        TimeSpan? watchdog = null) =>
        new(
            Name: "web",
            Command: ["/bin/true"],
            Workers: 1,
            Listen: [],
            Sharing: SharingMode.ReusePort,
            Ready: ready,
            ReadyTimeout: TimeSpan.FromSeconds(30),
            MinUptime: TimeSpan.FromSeconds(1),
            User: null,
            Group: null,
            Cwd: null,
            Env: new Dictionary<string, string>(),
            Restart: restart,
            Backoff: new BackoffConfig(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), 2.0),
            MaxRestarts: maxRestarts,
            RestartWindow: TimeSpan.FromSeconds(60),
            StopSignal: 15,
            StopSignalName: "SIGTERM",
            StopTimeout: TimeSpan.FromSeconds(10),
            WatchdogTimeout: watchdog ?? TimeSpan.Zero,
            DrainDelay: TimeSpan.FromMilliseconds(100),
            Health: WorkerHealthConfig.None,
            MinReady: null,
            WorkersSource: GroupConfig.WorkersFromConfig);

    public static Worker Worker(GroupConfig config) =>
        new GroupRuntime(config, GroupListeners.Bind(config), generation: 1).Workers[0];
}

internal sealed class FakeTimer(WorkerInput input, TimeSpan delay) : IDisposable
{
    public WorkerInput Input { get; } = input;

    public TimeSpan Delay { get; } = delay;

    public bool Disposed { get; private set; }

    public void Dispose() => Disposed = true;
}
