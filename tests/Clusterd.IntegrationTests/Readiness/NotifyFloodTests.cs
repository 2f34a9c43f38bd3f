using System.Globalization;
using Clusterd.IntegrationTests.Infrastructure;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;
using Xunit.Abstractions;

namespace Clusterd.IntegrationTests.Readiness;

/// <summary>
/// Floods of notify datagrams from a group's own workers (the only senders its socket lets in): the loop, the other
/// groups and the flooding group's own READY=1 keep working, and what waits for the loop stays bounded.
/// </summary>
public sealed class NotifyFloodTests(ITestOutputHelper output) : IDisposable
{
    private const int FloodEventId = 401;

    private readonly NotifyClients _clients = new();

    public void Dispose() => _clients.Dispose();

    private static int Number(LogEntry e, string key) => int.Parse(e[key]!, CultureInfo.InvariantCulture);

    [Fact]
    public async Task FloodFromAWorker_StatusRolloutsAndOtherGroupsKeepWorking()
    {
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("flood", Toml.Worker("--notify-flood"), 1, []) + Toml.Group("web", Toml.Worker(), 2, []), output);
        await clusterd.WaitForAsync(e => e.EventId == LogEntry.WorkerOutput && e.Group == "flood" && e["Line"]!.Contains("flooding", StringComparison.Ordinal),
            what: "the flood to start");
        var flood = (await clusterd.WaitForAsync(e => e.EventId == FloodEventId && e.Group == "flood", what: "the flood report"))[0];

        var status = await clusterd.RequestAsync(new Request { Command = Commands.Status });
        var restartWeb = await clusterd.RequestAsync(new Request { Command = Commands.Restart, Group = "web" });
        var scaleWeb = await clusterd.RequestAsync(new Request { Command = Commands.Scale, Group = "web", Count = 3 });
        await clusterd.WaitForEventAsync("listening", "web", count: 5); // 2 first, 2 replacements, 1 more
        // The flooding group's own replacement gets its READY=1 through while the old worker still floods.
        var restartFlood = await clusterd.RequestAsync(new Request { Command = Commands.Restart, Group = "flood" });

        Assert.True(status.Ok, status.Error?.Message);
        Assert.True(restartWeb.Ok, restartWeb.Error?.Message);
        Assert.True(scaleWeb.Ok, scaleWeb.Error?.Message);
        Assert.True(restartFlood.Ok, restartFlood.Error?.Message);
        Assert.True(Number(flood, "Superseded") > 0, flood.Raw);
        Assert.InRange(Number(flood, "Peak"), 1, Number(flood, "Capacity"));
        Assert.DoesNotContain(clusterd.Entries, e => e.Group == "web" && e.EventId == FloodEventId);
    }

    [Fact]
    public async Task FloodFromManyProcessesOfAWorker_QueueNeverHoldsMoreThanItsCapacityAndReadyGetsThrough()
    {
        // 80 forked children, all in the worker's session so all attributed to it: more senders than the inbox holds.
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("swarm", [NotifyClients.Python, _clients.Swarm, "80"], 1, []) + Toml.Group("web", Toml.Worker(), 1, []), output);

        var ready = await clusterd.WaitForEventAsync("listening", "swarm");
        var paused = (await clusterd.WaitForAsync(e => e.EventId == FloodEventId && e.Group == "swarm" && Number(e, "Paused") > 0,
            what: "a flood report saying reading paused"))[0];
        var scale = await clusterd.RequestAsync(new Request { Command = Commands.Scale, Group = "web", Count = 2 });
        await clusterd.WaitForEventAsync("listening", "web", count: 2);

        Assert.Equal(Assert.Single(clusterd.Events("swarm"), e => e.Event == "fork").Pid, ready[0].Pid);
        Assert.Equal(Number(paused, "Capacity"), Number(paused, "Peak")); // filled up, and never beyond
        Assert.All(clusterd.Entries.Where(e => e.EventId == FloodEventId), e => Assert.True(Number(e, "Peak") <= Number(e, "Capacity"), e.Raw));
        Assert.True(scale.Ok, scale.Error?.Message);
    }
}
