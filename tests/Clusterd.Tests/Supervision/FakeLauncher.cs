using Clusterd.Supervision;

namespace Clusterd.Tests.Supervision;

/// <summary>
/// Stands in for <see cref="ProcessWorkerLauncher"/>: records each launch and lets the test decide what becomes of it
/// by posting the events a real launch would. Launch runs on the supervisor loop; the test reads
/// <see cref="Launched"/> after a <see cref="SupervisorHarness.SettleAsync"/>.
/// </summary>
internal sealed class FakeLauncher(Action<SupervisorEvent> post) : IWorkerLauncher
{
    private readonly Lock _lock = new();
    private readonly List<LaunchSpec> _launched = [];
    private int _nextPid = 1000;

    /// <summary>When set, Launch throws what it returns (for the spec), as a broken launcher would.</summary>
    public Func<LaunchSpec, Exception?>? Fault { get; set; }

    public IReadOnlyList<LaunchSpec> Launched
    {
        get
        {
            lock (_lock)
            {
                return [.. _launched];
            }
        }
    }

    public string Containment => "nothing: no process is started";

    public bool SpawnerMovedWithin(TimeSpan within) => false; // nothing is queued: a spawn the test never reports is stuck

    public void Launch(LaunchSpec spec)
    {
        if (Fault?.Invoke(spec) is { } fault)
        {
            throw fault;
        }
        lock (_lock)
        {
            _launched.Add(spec);
        }
    }

    /// <summary>The process starts and execs; returns it so the test can see what it was sent.</summary>
    public FakeProcess Start(LaunchSpec spec)
    {
        var process = new FakeProcess(Interlocked.Increment(ref _nextPid));
        post(new WorkerEvent(spec.Worker, spec.Incarnation, WorkerInput.Spawned, process.Pid, Process: process));
        post(new WorkerEvent(spec.Worker, spec.Incarnation, WorkerInput.ExecSucceeded));
        return process;
    }

    /// <summary>What a command health check comes to: null (a pass) unless the test says otherwise.</summary>
    public Func<LaunchSpec, string?> CheckResult { get; set; } = _ => null;

    public Task<string?> RunCheckAsync(LaunchSpec spec, TimeSpan timeout, CancellationToken cancellationToken) =>
        Task.FromResult(CheckResult(spec));

    public void Exit(LaunchSpec spec, int waitStatus) =>
        post(new WorkerEvent(spec.Worker, spec.Incarnation, WorkerInput.Exited, waitStatus));

    public void Dispose()
    {
    }
}

internal sealed class FakeProcess(int pid, string? cgroup = null) : IWorkerProcess
{
    private readonly Lock _lock = new();
    private readonly List<int> _signals = [];

    public int Pid { get; } = pid;

    public string? Cgroup { get; } = cgroup;

    public bool OomKilled { get; set; }

    public IReadOnlyList<int> Signals
    {
        get
        {
            lock (_lock)
            {
                return [.. _signals];
            }
        }
    }

    public bool Signal(int signal)
    {
        lock (_lock)
        {
            _signals.Add(signal);
        }
        return true;
    }
}
