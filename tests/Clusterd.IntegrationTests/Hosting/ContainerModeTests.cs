using Clusterd.IntegrationTests.Infrastructure;
using Clusterd.Protocol.Messages;
using Xunit.Abstractions;

namespace Clusterd.IntegrationTests.Hosting;

/// <summary>
/// Container mode (docs/containers.md, ADR 0007): a failed group ends clusterd with status 3, and clusterd under
/// <c>clusterd-exec --init</c> stops gracefully on the init's SIGTERM and exits 0. The PID 1 cases run in Docker
/// (tests/Clusterd.SystemTests/ContainerTests.cs); here the init is a child subreaper, which gets orphans the same way.
/// </summary>
public class ContainerModeTests(ITestOutputHelper output)
{
    private static readonly string[] Init = [Path.Combine(Path.GetDirectoryName(Repo.Clusterd)!, "clusterd-exec"), "--init", "--"];

    private static string CrashingAndServing(string extra = "") =>
        extra +
        Toml.Group("crashing", Toml.Worker("--crash-after", "0"), 1, [], "reuseport", "notify", "max_restarts = 1", "restart_window = \"60s\"") +
        Toml.Group("serving", Toml.Worker(), 2, []);

    [Fact]
    public async Task ContainerMode_GroupFails_StopsEveryGroupAndExitsWith3()
    {
        await using var clusterd = ClusterdProcess.Start(CrashingAndServing(), output, "--container");

        var code = await clusterd.WaitForExitAsync();

        Assert.Equal(3, code);
        Assert.Contains(clusterd.Entries, e => e.EventId == 41);
        var exits = clusterd.Events("serving").Where(e => e.Event == "exit").ToArray();
        Assert.Equal(2, exits.Length);
        Assert.All(exits, e => Assert.Equal("stopped", e.Reason));
    }

    [Fact]
    public async Task ContainerMode_ExitOnFailedFalse_KeepsServing()
    {
        await using var clusterd = ClusterdProcess.Start(CrashingAndServing("[container]\nexit_on_failed = false\n\n"), output, "--container");

        await clusterd.WaitForEventAsync("failed", "crashing");
        var ping = await clusterd.RequestAsync(new Request { Command = Commands.Ping });

        Assert.True(ping.Ok);
        Assert.DoesNotContain(clusterd.Entries, e => e.EventId == 41);
    }

    [Fact]
    public async Task OutsideContainerMode_ExitOnFailedTrue_Exits()
    {
        await using var clusterd = ClusterdProcess.Start(CrashingAndServing("[container]\nexit_on_failed = true\n\n"), output);

        Assert.Equal(3, await clusterd.WaitForExitAsync());
    }

    [Fact]
    public async Task UnderInit_Sigterm_IsForwarded_WorkersStopGracefully_AndTheInitExits0()
    {
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 2, []), output, environment: null,
            launcher: Init, "--container");
        await clusterd.WaitForEventAsync("listening", "web", count: 2);

        clusterd.Signal(Native.SIGTERM); // to the init, which passes it on
        var code = await clusterd.WaitForExitAsync();

        Assert.Equal(0, code);
        var exits = clusterd.Events("web").Where(e => e.Event == "exit").ToArray();
        Assert.Equal(2, exits.Length);
        Assert.All(exits, e => Assert.Equal("stopped", e.Reason));
    }

    [Fact]
    public async Task UnderInit_GroupFails_TheInitExitsWithClusterdsStatus()
    {
        await using var clusterd = ClusterdProcess.Start(CrashingAndServing(), output, environment: null, launcher: Init, "--container");

        Assert.Equal(3, await clusterd.WaitForExitAsync());
    }
}
