using Clusterd.IntegrationTests.Infrastructure;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;
using Xunit.Abstractions;

namespace Clusterd.IntegrationTests.Control;

public class RolloutTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("reuseport")]
    [InlineData("shared")]
    public async Task Restart_UnderLoad_ReplacesEveryWorkerWithZeroFailedRequests(string sharing)
    {
        var port = Ports.Free();
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker(), 3, [$"127.0.0.1:{port}"], sharing), output: null);
        var before = await clusterd.WaitForEventAsync("listening", "web", count: 3);

        var result = await RestartUnderLoadAsync(clusterd, new Load(port), requestsEachSide: 200);

        output.WriteLine($"{result.Succeeded} requests served during the test");
        Assert.True(result.Restart.Ok, result.Restart.Error?.Message);
        Assert.Empty(result.Failures);
        Assert.Equal(new HashSet<string> { "1", "2" }, result.Generations);
        var status = await clusterd.RequestAsync(new Request { Command = Commands.Status });
        var web = status.Cluster!.Groups[0];
        Assert.Equal(3, web.Workers.Count);
        Assert.All(web.Workers, w => Assert.Equal((2, PublicWorkerState.Ready), (w.Generation, w.State)));
        Assert.DoesNotContain(web.Workers, w => before.Any(b => b.Pid == w.Pid));
        Assert.All(before, b => Assert.False(Native.IsAlive(b.Pid)));
        Assert.All(clusterd.Events("web").Where(e => e.Event == "exit"), e => Assert.Equal("stopped", e.Reason));
    }

    [Fact]
    public async Task Restart_WorkersThatExitAtOnceOnSigterm_LoseNoRequestInFlight()
    {
        if (!Native.SteeringTestable())
        {
            return;
        }
        var port = Ports.Free();
        // Each request takes 20 ms, so a worker signalled while it still gets connections always has some in flight.
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker("--exit-on-term"), 3, [$"127.0.0.1:{port}"], "reuseport"), output: null);
        var before = await clusterd.WaitForEventAsync("listening", "web", count: 3);

        var result = await RestartUnderLoadAsync(clusterd, new Load(port, path: "/sleep?ms=20"), requestsEachSide: 100);

        output.WriteLine($"{result.Succeeded} requests served during the test");
        Assert.True(result.Restart.Ok, result.Restart.Error?.Message);
        Assert.Empty(result.Failures);
        Assert.Equal(new HashSet<string> { "1", "2" }, result.Generations);
        Assert.All(before, b => Assert.False(Native.IsAlive(b.Pid)));
        // Each old worker was disconnected (no new connections) before it was signalled, and exited as asked.
        var events = clusterd.Events("web");
        Assert.All(before, b => Assert.Contains(events, e => e.Event == "disconnect" && e.Pid == b.Pid));
        Assert.All(events.Where(e => e.Event == "exit"), e => Assert.Equal("stopped", e.Reason));
    }

    [Fact]
    public async Task Restart_ReplacementCrashes_RolloutStopsAndOldWorkersKeepServing()
    {
        var port = Ports.Free();
        var poison = Path.Combine(Path.GetTempPath(), $"clusterd-poison-{Guid.NewGuid():N}");
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker("--crash-if-file", poison), 2, [$"127.0.0.1:{port}"]), output);
        var before = await clusterd.WaitForEventAsync("listening", "web", count: 2);
        await File.WriteAllTextAsync(poison, "bad deploy");
        try
        {
            var restart = await clusterd.RequestAsync(new Request { Command = Commands.Restart, Group = "web" });

            Assert.False(restart.Ok);
            Assert.Equal(ErrorCodes.Failed, restart.Error!.Code);
            Assert.Contains("slot 0", restart.Error.Message, StringComparison.Ordinal);
            var status = await clusterd.RequestAsync(new Request { Command = Commands.Status });
            var web = status.Cluster!.Groups[0];
            Assert.Equal(before.Select(b => b.Pid).Order(), web.Workers.Where(w => w.State == PublicWorkerState.Ready).Select(w => w.Pid).Order());
            Assert.Equal(1, web.Generation);
            Assert.Equal(200, (await Http.GetAsync(port)).Status);
            Assert.Equal(1, clusterd.Events("web").Count(e => e.Event == "exit")); // only the replacement died
        }
        finally
        {
            File.Delete(poison);
        }
    }

    [Fact]
    public async Task Restart_ReplacementNeverReady_TimesOutAndAborts()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"clusterd-slow-{Guid.NewGuid():N}");
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", ["/bin/sh", "-c", $"test -e {marker} && exec sleep 1000; exec {Repo.TestWorker}"], 1, [],
                "reuseport", "notify", "ready_timeout = \"1s\""), output);
        var before = (await clusterd.WaitForEventAsync("listening", "web"))[0];
        await File.WriteAllTextAsync(marker, "");
        try
        {
            var restart = await clusterd.RequestAsync(new Request { Command = Commands.Restart, Group = "web" });

            Assert.False(restart.Ok);
            Assert.Contains("ready-timeout", restart.Error!.Message, StringComparison.Ordinal);
            Assert.True(Native.IsAlive(before.Pid));
        }
        finally
        {
            File.Delete(marker);
        }
    }

    [Fact]
    public async Task Restart_WhileAnotherRolls_IsBusy()
    {
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker("--ready-delay", "1500"), 1, []), output);
        await clusterd.WaitForEventAsync("listening", "web");

        var first = clusterd.RequestAsync(new Request { Command = Commands.Restart, Group = "web" });
        await clusterd.WaitForEventAsync("fork", "web", count: 2);
        var second = await clusterd.RequestAsync(new Request { Command = Commands.Scale, Group = "web", Count = 2 });

        Assert.Equal(ErrorCodes.Busy, second.Error!.Code);
        Assert.True((await first).Ok);
    }

    [Theory]
    [InlineData(1, 0, 1)]  // one replacement at a time, each before its old worker stops
    [InlineData(2, 0, 2)]  // two at a time
    [InlineData(0, 1, 0)]  // no surge: the old worker stops first (capacity dips by one)
    public async Task Restart_SurgeAndUnavailableLimits_BoundHowManySlotsChangeAtOnce(int maxSurge, int maxUnavailable, int forksBeforeFirstStop)
    {
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 4, []), output);
        await clusterd.WaitForEventAsync("listening", "web", count: 4);

        var restart = await clusterd.RequestAsync(new Request { Command = Commands.Restart, Group = "web", MaxSurge = maxSurge, MaxUnavailable = maxUnavailable });

        Assert.True(restart.Ok, restart.Error?.Message);
        var rollout = clusterd.Events("web").SkipWhile(e => e["Generation"] == "1" && e.Event != "disconnect").ToArray();
        var firstStop = Array.FindIndex(rollout, e => e.Event == "disconnect");
        Assert.Equal(forksBeforeFirstStop, rollout.Take(firstStop).Count(e => e.Event == "fork"));
        Assert.Equal(4, clusterd.Events("web").Count(e => e.Event == "fork" && e["Generation"] == "2"));
        Assert.Equal(4, clusterd.Events("web").Count(e => e.Event == "exit" && e.Reason == "stopped"));
    }

    /// <summary>Runs <paramref name="load"/>, restarts "web" once that many requests went through, and stops it after as many more.</summary>
    private static async Task<OutcomeAndLoad> RestartUnderLoadAsync(ClusterdProcess clusterd, Load load, int requestsEachSide)
    {
        await using (load)
        {
            await load.WaitForSuccessesAsync(requestsEachSide);
            var restart = await clusterd.RequestAsync(new Request { Command = Commands.Restart, Group = "web" });
            await load.WaitForSuccessesAsync(load.Succeeded + requestsEachSide);
            return new OutcomeAndLoad(restart, load.Succeeded, load.Failures.ToArray(), load.ByGeneration.Keys.ToHashSet());
        }
    }

    private sealed record OutcomeAndLoad(Response Restart, long Succeeded, string[] Failures, HashSet<string> Generations);
}
