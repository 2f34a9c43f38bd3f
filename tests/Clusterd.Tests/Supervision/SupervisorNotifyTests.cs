using Clusterd.Config;
using Clusterd.Protocol;
using Clusterd.Readiness;
using Clusterd.Supervision;
using Clusterd.Tests.Readiness;
using Microsoft.Extensions.Logging.Abstractions;

namespace Clusterd.Tests.Supervision;

/// <summary>
/// The loop's side of sd_notify (Supervision/Supervisor.Notify.cs): a real loop, a fake launcher, and notify sockets
/// over scripted sources, so the order of a worker's pid and its messages can be chosen.
/// </summary>
public sealed class SupervisorNotifyTests : IDisposable
{
    private const string SocketPath = "/run/clusterd-test/notify/web";

    private readonly Dictionary<string, ScriptedSource> _sources = [];
    private readonly Dictionary<int, int> _sessions = [];
    private readonly SemaphoreSlim _wakes = new(0);

    public void Dispose() => _wakes.Dispose();

    private static GroupConfig NotifyGroup(string name = "web") => FakeWorkerHost.Group(ready: ReadyMode.Notify) with { Name = name };

    private SupervisorHarness Harness(params GroupConfig[] groups) => new(null, (config, wake) =>
    {
        var source = _sources[config.Name] = new ScriptedSource();
        return new NotifySocket(SocketPath, null, source, s => new NotifyInbox(config.Name, NullLogger.Instance, TimeProvider.System,
            pid => _sessions.GetValueOrDefault(pid, pid), () =>
            {
                wake(s);
                _wakes.Release();
            }), NullLogger.Instance, TimeProvider.System);
    }, groups);

    /// <summary>Sends a datagram and waits until the loop has handled what it woke the loop for.</summary>
    private async Task SendAsync(SupervisorHarness h, string datagram, int pid, string group = "web")
    {
        _sources[group].Send(datagram, pid);
        Assert.True(await _wakes.WaitAsync(TimeSpan.FromSeconds(10)), "the datagram never woke the loop");
        await h.SettleAsync();
    }

    private static PublicWorkerState StateOf(SupervisorHarness h, string group = "web") =>
        h.Supervisor.Snapshot.Groups.Single(g => g.Name == group).Workers.Single().State;

    [Fact]
    public async Task Spawn_WorkerGetsItsGroupsSocketAsNotifySocket()
    {
        await using var h = Harness(NotifyGroup());
        await h.SettleAsync();

        Assert.Equal(SocketPath, h.Launcher.Launched.Single().Contract[ReservedEnvironment.NotifySocket]);
    }

    [Fact]
    public async Task ReadyFromAProcessInTheWorkersSession_MakesTheWorkerReady()
    {
        await using var h = Harness(NotifyGroup());
        await h.SettleAsync();
        var worker = h.Launcher.Start(h.Launcher.Launched.Single());
        await h.SettleAsync();
        _sessions[5000] = worker.Pid; // e.g. systemd-notify, run by the worker's shell

        await SendAsync(h, "READY=1\nSTATUS=up", pid: 5000);

        Assert.Equal(PublicWorkerState.Ready, StateOf(h));
        Assert.Equal("up", h.Supervisor.Snapshot.Groups[0].Workers[0].Status);
    }

    [Fact]
    public async Task ReadyFromAStranger_WithNoWorkerStarting_ChangesNothing()
    {
        await using var h = Harness(NotifyGroup());
        await h.SettleAsync();
        h.Launcher.Start(h.Launcher.Launched.Single());
        await h.SettleAsync();

        await SendAsync(h, "READY=1\nSTATUS=impostor", pid: 7777);

        Assert.Equal(PublicWorkerState.Starting, StateOf(h));
        Assert.Null(h.Supervisor.Snapshot.Groups[0].Workers[0].Status);
    }

    [Fact]
    public async Task ReadyFromAWorkerOfAnotherGroup_DoesNotCountOnThisGroupsSocket()
    {
        await using var h = Harness(NotifyGroup("web"), NotifyGroup("api"));
        await h.SettleAsync();
        foreach (var spec in h.Launcher.Launched)
        {
            h.Launcher.Start(spec);
        }
        await h.SettleAsync();
        var api = h.Supervisor.Snapshot.Groups.Single(g => g.Name == "api").Workers.Single().Pid;

        await SendAsync(h, "READY=1", pid: api, group: "web");

        Assert.Equal(PublicWorkerState.Starting, StateOf(h, "web"));
        Assert.Equal(PublicWorkerState.Starting, StateOf(h, "api"));
    }

    [Fact]
    public async Task ReloadDryRun_AddingAGroup_OpensNoNotifySocket()
    {
        await using var h = Harness(NotifyGroup("web"));
        await h.SettleAsync();
        var next = new ClusterConfig("test.toml", new ControlConfig(null, null, null, null), new MetricsConfig(null), [NotifyGroup("web"), NotifyGroup("api")], ContainerConfig.Default);

        var dryRun = await h.Supervisor.ReloadAsync(next, dryRun: true).Applied.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(dryRun.Ok, dryRun.Message);
        Assert.Equal(["web"], _sources.Keys);
    }

    [Fact]
    public async Task Reload_RemovingAGroup_ClosesItsSocketOnceItsWorkerIsGone()
    {
        await using var h = Harness(NotifyGroup("web"), NotifyGroup("api"));
        await h.SettleAsync();
        var api = h.Launcher.Launched.Single(s => s.Worker.Group.Name == "api");
        h.Launcher.Start(api);
        await h.SettleAsync();
        var next = new ClusterConfig("test.toml", new ControlConfig(null, null, null, null), new MetricsConfig(null), [NotifyGroup("web")], ContainerConfig.Default);

        var reload = await h.Supervisor.ReloadAsync(next, dryRun: false).Applied.WaitAsync(TimeSpan.FromSeconds(10));
        var whileStopping = _sources["api"].Disposed;
        h.Launcher.Exit(api, FakeWorkerHost.KilledBy(15));
        await h.SettleAsync();

        Assert.True(reload.Ok, reload.Message);
        Assert.False(whileStopping); // its worker may still say STOPPING=1
        Assert.True(_sources["api"].Disposed);
        Assert.False(_sources["web"].Disposed);
    }
}
