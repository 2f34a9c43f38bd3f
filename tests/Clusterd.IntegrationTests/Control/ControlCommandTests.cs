using Clusterd.IntegrationTests.Infrastructure;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;
using Xunit.Abstractions;

namespace Clusterd.IntegrationTests.Control;

/// <summary>Every control command against a real clusterd, over its real Unix socket.</summary>
public class ControlCommandTests(ITestOutputHelper output)
{
    [Fact]
    public async Task PingVersionStatus_AnswerWithLiveState()
    {
        var port = Ports.Free();
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 2, [$"127.0.0.1:{port}"]), output);
        var ready = await clusterd.WaitForEventAsync("listening", "web", count: 2);

        var ping = await clusterd.RequestAsync(new Request { Command = Commands.Ping });
        var version = await clusterd.RequestAsync(new Request { Command = Commands.Version });
        var status = await clusterd.RequestAsync(new Request { Command = Commands.Status });

        Assert.Equal("pong", ping.Message);
        Assert.Equal(clusterd.Pid, version.Version!.Pid);
        Assert.Equal(ProtocolVersion.Current, version.Version.Protocol);
        var web = Assert.Single(status.Cluster!.Groups);
        Assert.Equal(("web", 2, 2, PublicGroupState.Running), (web.Name, web.Desired, web.Ready, web.State));
        Assert.Equal(ready.Select(r => r.Pid).Order(), web.Workers.Select(w => w.Pid).Order());
        Assert.All(web.Workers, w => Assert.Equal(PublicWorkerState.Ready, w.State));
        Assert.All(web.Workers, w => Assert.True(w.RssBytes > 0 && w.UptimeSeconds >= 0 && w.CpuSeconds >= 0));
        // The readings say when they were taken; a second status shares them or reads anew, never older ones.
        Assert.True(web.StatsReadAt <= DateTimeOffset.UtcNow, $"stats_read_at {web.StatsReadAt} is not in the past");
        var again = Assert.Single((await clusterd.RequestAsync(new Request { Command = Commands.Status })).Cluster!.Groups);
        Assert.True(again.StatsReadAt >= web.StatsReadAt, $"{again.StatsReadAt} is older than {web.StatsReadAt}");
    }

    [Fact]
    public async Task Status_UnknownGroup_IsNotFound()
    {
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 1, []), output);

        var response = await clusterd.RequestAsync(new Request { Command = Commands.Status, Group = "nope" });

        Assert.False(response.Ok);
        Assert.Equal(ErrorCodes.NotFound, response.Error!.Code);
        Assert.Contains("web", response.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scale_UpThenDown_StartsAndRetiresTheHighestSlots()
    {
        var port = Ports.Free();
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 1, [$"127.0.0.1:{port}"]), output);
        await clusterd.WaitForEventAsync("listening", "web");

        var up = await clusterd.RequestAsync(new Request { Command = Commands.Scale, Group = "web", Count = 3 });
        var started = await clusterd.WaitForEventAsync("listening", "web", count: 3);
        var down = await clusterd.RequestAsync(new Request { Command = Commands.Scale, Group = "web", Count = 1 });
        var exits = await clusterd.WaitForEventAsync("exit", "web", count: 2);

        Assert.True(up.Ok, up.Error?.Message);
        Assert.True(down.Ok, down.Error?.Message);
        Assert.Equal([0, 1, 2], started.Select(e => e.Slot).Order());
        Assert.Equal([1, 2], exits.Select(e => e.Slot).Order());
        Assert.All(exits, e => Assert.Equal("stopped", e.Reason));
        var status = await clusterd.RequestAsync(new Request { Command = Commands.Status });
        Assert.Equal(1, status.Cluster!.Groups[0].Desired);
        Assert.Equal(200, (await Http.GetAsync(port)).Status);
    }

    [Fact]
    public async Task StopThenStart_Group_StopsEveryWorkerAndStartsThemAgain()
    {
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 2, []), output);
        await clusterd.WaitForEventAsync("listening", "web", count: 2);

        var stop = await clusterd.RequestAsync(new Request { Command = Commands.Stop, Group = "web" });
        var afterStop = await clusterd.RequestAsync(new Request { Command = Commands.Status });
        var start = await clusterd.RequestAsync(new Request { Command = Commands.Start, Group = "web" });
        var afterStart = await clusterd.RequestAsync(new Request { Command = Commands.Status });

        Assert.True(stop.Ok, stop.Error?.Message);
        Assert.Equal(PublicGroupState.Stopped, afterStop.Cluster!.Groups[0].State);
        Assert.All(afterStop.Cluster.Groups[0].Workers, w => Assert.Equal(PublicWorkerState.Stopped, w.State));
        Assert.True(start.Ok, start.Error?.Message);
        Assert.Equal(PublicGroupState.Running, afterStart.Cluster!.Groups[0].State);
        Assert.Equal(4, clusterd.Events("web").Count(e => e.Event == "fork"));
    }

    [Fact]
    public async Task Signal_OneSlot_ReachesOnlyThatWorker()
    {
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 2, []), output);
        var ready = await clusterd.WaitForEventAsync("listening", "web", count: 2);

        var response = await clusterd.RequestAsync(new Request { Command = Commands.Signal, Group = "web", Slot = 1, Signal = "KILL" });
        var exit = (await clusterd.WaitForEventAsync("exit", "web"))[0];

        Assert.True(response.Ok, response.Error?.Message);
        Assert.Equal(1, exit.Slot);
        Assert.Equal("crashed", exit.Reason);
        Assert.Equal("9", exit["Signal"]);
        Assert.True(Native.IsAlive(ready.Single(r => r.Slot == 0).Pid));
    }

    [Fact]
    public async Task Signal_UnknownName_IsBadRequest()
    {
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 1, []), output);

        var response = await clusterd.RequestAsync(new Request { Command = Commands.Signal, Group = "web", Signal = "SIGNOPE" });

        Assert.Equal(ErrorCodes.BadRequest, response.Error!.Code);
    }

    [Fact]
    public async Task Events_SinceAndFollow_ReplayThenStreamLiveEvents()
    {
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 1, []), output);
        var listening = (await clusterd.WaitForEventAsync("listening", "web"))[0];
        var seq = long.Parse(listening["Seq"]!, System.Globalization.CultureInfo.InvariantCulture);

        var all = await clusterd.RequestAsync(new Request { Command = Commands.Events });
        var since = await clusterd.RequestAsync(new Request { Command = Commands.Events, Since = seq - 1 });
        await using var follower = await clusterd.ConnectAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var stream = follower.StreamAsync(new Request { Command = Commands.Events, Since = seq, Follow = true }, cts.Token).GetAsyncEnumerator(cts.Token);
        await clusterd.RequestAsync(new Request { Command = Commands.Signal, Group = "web", Signal = "KILL" });
        var live = new List<LifecycleEvent>();
        while (!live.Any(e => e.Kind == "exit") && await stream.MoveNextAsync())
        {
            live.AddRange(stream.Current.Events ?? []);
        }

        Assert.Equal(["fork", "online", "listening"], all.Events!.Select(e => e.Kind));
        Assert.Equal([seq], since.Events!.Select(e => e.Seq));
        var exit = live.Single(e => e.Kind == "exit");
        Assert.Equal(("crashed", 9), (exit.Reason, exit.Signal));
        Assert.True(live.All(e => e.Seq > seq));
    }

    [Fact]
    public async Task Logs_TailAndFollow_ReturnCapturedOutput()
    {
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker("--say", "first words"), 1, []), output);
        await clusterd.WaitForAsync(e => e.EventId == LogEntry.WorkerOutput && e["Line"] == "first words");

        var tail = await clusterd.RequestAsync(new Request { Command = Commands.Logs, Group = "web", Lines = 10 });
        await using var follower = await clusterd.ConnectAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var stream = follower.StreamAsync(new Request { Command = Commands.Logs, Group = "web", Slot = 0, Lines = 0, Follow = true }, cts.Token)
            .GetAsyncEnumerator(cts.Token);
        Assert.True(await stream.MoveNextAsync()); // the (empty) tail
        await clusterd.RequestAsync(new Request { Command = Commands.Signal, Group = "web", Signal = "KILL" });
        var lines = new List<LogLine>();
        while (!lines.Any(l => l.Text == "first words") && await stream.MoveNextAsync())
        {
            lines.AddRange(stream.Current.Logs ?? []);
        }

        Assert.Contains(tail.Logs!, l => l.Text == "first words" && l.Stream == "stdout" && l.Slot == 0);
        Assert.Contains(lines, l => l.Text == "first words"); // said again by the replacement, seen live
    }
}
