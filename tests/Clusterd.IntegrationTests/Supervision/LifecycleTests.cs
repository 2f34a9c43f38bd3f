using System.Globalization;
using Clusterd.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Clusterd.IntegrationTests.Supervision;

public class LifecycleTests(ITestOutputHelper output)
{
    [Fact]
    public async Task CrashLoop_BackoffGrows_ThenSlotFails()
    {
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker("--crash-after", "0"), 1, [], "reuseport", "notify",
                "max_restarts = 3", "restart_window = \"60s\""), output);

        var failed = (await clusterd.WaitForEventAsync("failed", "web"))[0];

        var events = clusterd.Events("web");
        var delays = events.Where(e => e.Event == "backoff")
            .Select(e => double.Parse(e["DelaySeconds"]!, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal([0.05, 0.1, 0.2], delays);
        Assert.Equal(4, events.Count(e => e.Event == "fork"));
        Assert.Equal(3, events.Count(e => e.Event == "restart"));
        Assert.All(events.Where(e => e.Event == "exit"), e => Assert.Equal("3", e["ExitCode"]));
        Assert.Equal("error", failed.Level);
        Assert.Contains("crash loop", failed.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Crash_OfAServingWorker_IsReplacedAtOnce_AndTheNextBacksOff()
    {
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker(), 1, [], "reuseport", "notify", "backoff = { initial = \"200ms\", max = \"1s\", factor = 2.0 }"), output);
        var first = (await clusterd.WaitForEventAsync("listening", "web"))[0];
        Native.Kill(first.Pid, Native.SIGKILL);
        var second = (await clusterd.WaitForEventAsync("listening", "web", count: 2))[1];

        Native.Kill(second.Pid, Native.SIGKILL);
        await clusterd.WaitForEventAsync("listening", "web", count: 3);

        var delays = clusterd.Events("web").Where(e => e.Event == "backoff")
            .Select(e => double.Parse(e["DelaySeconds"]!, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal([0, 0.2], delays);
    }

    [Fact]
    public async Task Stop_WorkerIgnoresSigterm_IsKilledAfterStopTimeout()
    {
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker("--ignore-term"), 1, [], "reuseport", "notify", "stop_timeout = \"1s\""), output);
        var ready = (await clusterd.WaitForEventAsync("listening", "web"))[0];

        clusterd.Signal(Native.SIGTERM);
        var code = await clusterd.WaitForExitAsync();

        Assert.Equal(0, code);
        var exit = clusterd.Events("web").Single(e => e.Event == "exit");
        Assert.Equal("killed", exit.Reason);
        Assert.Equal("9", exit["Signal"]);
        Assert.False(Native.IsAlive(ready.Pid));
    }

    [Fact]
    public async Task Sigint_StopsEveryWorkerGracefully_AndExitsZero()
    {
        var port = Ports.Free();
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 2, [$"127.0.0.1:{port}"]), output);
        var ready = await clusterd.WaitForEventAsync("listening", "web", count: 2);

        clusterd.Signal(Native.SIGINT);
        var code = await clusterd.WaitForExitAsync();

        Assert.Equal(0, code);
        var exits = clusterd.Events("web").Where(e => e.Event == "exit").ToArray();
        Assert.Equal(2, exits.Length);
        Assert.All(exits, e => Assert.Equal("stopped", e.Reason));
        Assert.All(exits, e => Assert.Equal("0", e["ExitCode"]));
        Assert.Equal(2, clusterd.Events("web").Count(e => e.Event == "disconnect"));
        Assert.All(ready, r => Assert.False(Native.IsAlive(r.Pid)));
        await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(() => Http.GetAsync(port));
    }

    [Fact]
    public async Task Signals_InheritedAsIgnored_AreHeardAnyway()
    {
        // A job a script starts in the background inherits SIGINT ignored; nohup ignores SIGHUP; some shells SIGCHLD.
        string[] ignoring = ["/bin/sh", "-c", "trap '' INT HUP CHLD; exec \"$@\"", "sh"];
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 1, []), output, environment: null, launcher: ignoring);
        var ready = (await clusterd.WaitForEventAsync("listening", "web"))[0];

        Native.Kill(ready.Pid, Native.SIGKILL);
        var crash = (await clusterd.WaitForEventAsync("exit", "web"))[0];
        await clusterd.WaitForEventAsync("listening", "web", count: 2);
        clusterd.Signal(Native.SIGINT);
        var code = await clusterd.WaitForExitAsync();

        Assert.Equal(("crashed", "9"), (crash.Reason, crash["Signal"])); // the kernel did not reap it before clusterd could look
        Assert.Equal(0, code);
        Assert.Equal("stopped", clusterd.Events("web").Where(e => e.Event == "exit").Last().Reason);
    }

    [Fact]
    public async Task Sigterm_BeforeTheWorkersAreReady_StopsThemGracefully()
    {
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker("--no-ready"), 2, [], "reuseport", "notify", "ready_timeout = \"60s\""), output);
        var started = await clusterd.WaitForEventAsync("online", "web", count: 2);

        clusterd.Signal(Native.SIGTERM);
        var code = await clusterd.WaitForExitAsync();

        Assert.Equal(0, code);
        var exits = clusterd.Events("web").Where(e => e.Event == "exit").ToArray();
        Assert.Equal(2, exits.Length);
        // Its stop signal, not the SIGKILL that clusterd's end would have sent them.
        Assert.All(exits, e => Assert.Equal("stopped", e.Reason));
        Assert.All(exits, e => Assert.True(e["ExitCode"] == "0" || e["Signal"] == "15", e.Raw));
        Assert.All(started, s => Assert.False(Native.IsAlive(s.Pid)));
    }

    [Fact]
    public async Task SigkillOfClusterd_LeavesNoOrphanWorker()
    {
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 2, []), output);
        var ready = await clusterd.WaitForEventAsync("listening", "web", count: 2);

        clusterd.Signal(Native.SIGKILL);
        await clusterd.WaitForExitAsync();

        foreach (var pid in ready.Select(r => r.Pid))
        {
            await Wait.UntilAsync(() => !Native.IsAlive(pid), $"worker {pid} to die with clusterd");
        }
    }

    [Fact]
    public async Task NotifyMode_WorkerNeverReady_IsStoppedWithReadyTimeout()
    {
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker("--no-ready"), 1, [], "reuseport", "notify", "ready_timeout = \"500ms\""), output);

        var exit = (await clusterd.WaitForEventAsync("exit", "web"))[0];

        Assert.Equal("ready-timeout", exit.Reason);
        Assert.DoesNotContain(clusterd.Events("web"), e => e.Event == "listening");
        await clusterd.WaitForEventAsync("restart", "web");
    }

    [Fact]
    public async Task Watchdog_WorkerStopsPinging_IsRestartedWithReasonWatchdog()
    {
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker("--watchdog-ms", "100", "--stop-watchdog-after", "300"), 1, [], "reuseport", "notify",
                "watchdog_timeout = \"1s\""), output);

        var exit = (await clusterd.WaitForEventAsync("exit", "web"))[0];

        Assert.Equal("watchdog", exit.Reason);
        await clusterd.WaitForEventAsync("restart", "web");
    }

    [Fact]
    public async Task StartedMode_WorkerUpForMinUptime_IsListening()
    {
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", ["/bin/sleep", "1000"], 1, [], "reuseport", "started", "min_uptime = \"200ms\""), output);

        var listening = (await clusterd.WaitForEventAsync("listening", "web"))[0];

        Assert.True(Native.IsAlive(listening.Pid));
        Assert.Equal(["fork", "online", "listening"], clusterd.Events("web").Select(e => e.Event));
    }

    [Fact]
    public async Task ExecFailure_CommandMissing_SlotFailsWithTheReason()
    {
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", ["/nonexistent/worker"], 1, []), output);

        var failed = (await clusterd.WaitForEventAsync("failed", "web"))[0];

        var exit = clusterd.Events("web").Single(e => e.Event == "exit");
        Assert.Equal("exec-failed", exit.Reason);
        Assert.Contains("/nonexistent/worker", failed.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(clusterd.Events("web"), e => e.Event == "online");
    }

    [Fact]
    public async Task FloodingWorker_NeitherBlocksNorStopsClusterd_AndDropsAreCounted()
    {
        var port = Ports.Free();
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker("--flood"), 1, [$"127.0.0.1:{port}"]), output: null);
        await clusterd.WaitForEventAsync("listening", "web");

        await clusterd.WaitForAsync(e => e.EventId == LogEntry.OutputDropped, what: "a dropped-lines warning");
        var response = await Http.GetJsonAsync(port);

        Assert.True(response.GetProperty("pid").GetInt32() > 0);
        clusterd.Signal(Native.SIGTERM);
        Assert.Equal(0, await clusterd.WaitForExitAsync());
    }

    [Fact]
    public async Task WorkerOutput_IsCapturedLineByLine_WithGroupSlotAndPid()
    {
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker("--say", "hello from stdout", "--say-err", "hello from stderr"), 1, []), output);

        var lines = await clusterd.WaitForAsync(e => e.EventId == LogEntry.WorkerOutput && e["Line"]!.StartsWith("hello from", StringComparison.Ordinal), count: 2);
        var fork = clusterd.Events("web").First(e => e.Event == "fork");

        Assert.Contains(lines, l => l["Stream"] == "stdout" && l["Line"] == "hello from stdout");
        Assert.Contains(lines, l => l["Stream"] == "stderr" && l["Line"] == "hello from stderr");
        Assert.All(lines, l => Assert.Equal((fork.Group, fork.Slot, fork.Pid), (l.Group, l.Slot, l.Pid)));
    }
}
