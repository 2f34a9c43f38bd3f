using Clusterd.Config;
using Clusterd.Readiness;
using Clusterd.Supervision;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Clusterd.Tests.Supervision;

/// <summary>
/// A real <see cref="Supervisor"/> loop on fake time and a <see cref="FakeLauncher"/>: no process is forked. Tests
/// change things, then <see cref="SettleAsync"/> to know the loop has handled everything posted before.
/// </summary>
internal sealed class SupervisorHarness : IAsyncDisposable
{
    private readonly Task _loop;

    public SupervisorHarness(params GroupConfig[] groups)
        : this(null, groups)
    {
    }

    public SupervisorHarness(Clusterd.Sockets.ISocketSource? sockets, params GroupConfig[] groups)
        : this(sockets, null, groups)
    {
    }

    /// <param name="notify">Opens each group's notify socket (over a scripted source); without it, groups have none.</param>
    public SupervisorHarness(Clusterd.Sockets.ISocketSource? sockets, Func<GroupConfig, Action<NotifySocket>, NotifySocket?>? notify, params GroupConfig[] groups)
        : this(sockets, notify, Supervisor.DefaultPublishInterval, groups)
    {
    }

    /// <param name="publishInterval">The loop's <see cref="Supervisor.PublishInterval"/>.</param>
    public SupervisorHarness(TimeSpan publishInterval, params GroupConfig[] groups)
        : this(null, null, publishInterval, groups)
    {
    }

    private SupervisorHarness(Clusterd.Sockets.ISocketSource? sockets, Func<GroupConfig, Action<NotifySocket>, NotifySocket?>? notify,
        TimeSpan publishInterval, GroupConfig[] groups)
    {
        Supervisor = new Supervisor(NullLoggerFactory.Instance, Time, sockets, (post, _) => Launcher = new FakeLauncher(post),
            notify ?? ((_, _) => null)) { PublishInterval = publishInterval };
        var config = new ClusterConfig("test.toml", new ControlConfig(null, null, null, null), new MetricsConfig(null), groups, ContainerConfig.Default);
        _loop = Supervisor.RunAsync(config, CancellationToken.None);
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero));

    public Supervisor Supervisor { get; }

    public FakeLauncher Launcher { get; private set; } = null!;

    /// <summary>
    /// Completes once the loop has handled every event posted before this call and published a snapshot that shows it.
    /// An operation that does nothing is answered only after that publish; a callback would complete inside the loop's
    /// burst, before the burst's snapshot, and a test reading <see cref="Supervisor.Snapshot"/> then could see the one
    /// before (CI saw a slot as ready that was already in backoff). Two rounds: what the loop posts to itself while it
    /// handles an event (a launch that throws becomes a posted SpawnFailed) can land behind the first round's operation,
    /// whose answer is published at once, and the second round's comes after it (CI, and 1 run in 20 here, saw a slot
    /// still starting whose launch had thrown).
    /// </summary>
    public async Task SettleAsync()
    {
        for (var round = 0; round < 2; round++)
        {
            var done = new TaskCompletionSource<OperationResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            var answer = new TaskCompletionSource<OperationResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            Supervisor.Post(new OperationEvent(_ => done.TrySetResult(OperationResult.Success("settled")), done, answer));
            await answer.Task.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.False(_loop.IsFaulted, "the supervisor loop died: " + _loop.Exception);
        }
    }

    /// <summary>Starts and makes ready every launch not started yet; returns their processes.</summary>
    public async Task<List<FakeProcess>> StartAllAsync(int alreadyStarted = 0)
    {
        await SettleAsync();
        var started = Launcher.Launched.Skip(alreadyStarted).Select(Launcher.Start).ToList();
        await SettleAsync();
        Time.Advance(MinUptime); // ready = "started": ready once up for min_uptime
        await SettleAsync();
        return started;
    }

    public static readonly TimeSpan MinUptime = TimeSpan.FromSeconds(1);

    public static GroupConfig Group(string name = "web", int workers = 1) =>
        FakeWorkerHost.Group(ready: ReadyMode.Started) with { Name = name, Workers = workers, MinUptime = MinUptime };

    public async ValueTask DisposeAsync()
    {
        Supervisor.RequestStop();
        foreach (var spec in Launcher.Launched)
        {
            Launcher.Exit(spec, FakeWorkerHost.KilledBy(15));
        }
        await _loop.WaitAsync(TimeSpan.FromSeconds(10));
        await Supervisor.DisposeAsync();
    }
}
