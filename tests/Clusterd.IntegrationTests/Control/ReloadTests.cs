using Clusterd.IntegrationTests.Infrastructure;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;
using Xunit.Abstractions;

namespace Clusterd.IntegrationTests.Control;

public class ReloadTests(ITestOutputHelper output)
{
    private static async Task RewriteAsync(ClusterdProcess clusterd, string groups)
    {
        var text = await File.ReadAllTextAsync(clusterd.ConfigPath);
        var control = text[..text.IndexOf("[groups.", StringComparison.Ordinal)];
        await File.WriteAllTextAsync(clusterd.ConfigPath, control + groups);
    }

    [Fact]
    public async Task Reload_BrokenConfig_ReportsEveryErrorAndChangesNothing()
    {
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 2, []), output);
        var before = await clusterd.WaitForEventAsync("listening", "web", count: 2);
        await RewriteAsync(clusterd, "[groups.web]\ncommand = []\nworkers = -1\n");

        var reload = await clusterd.RequestAsync(new Request { Command = Commands.Reload });
        var status = await clusterd.RequestAsync(new Request { Command = Commands.Status });

        Assert.Equal(ErrorCodes.InvalidConfig, reload.Error!.Code);
        Assert.Equal(2, reload.ConfigErrors!.Count);
        Assert.All(reload.ConfigErrors, e => Assert.StartsWith($"{clusterd.ConfigPath}:", e, StringComparison.Ordinal));
        // The harness puts a 3-line [control] table first: the group's command is line 5, workers line 6.
        Assert.Contains(reload.ConfigErrors, e => e.StartsWith($"{clusterd.ConfigPath}:5:", StringComparison.Ordinal));
        Assert.Contains(reload.ConfigErrors, e => e.StartsWith($"{clusterd.ConfigPath}:6:", StringComparison.Ordinal));
        Assert.Equal(before.Select(b => b.Pid).Order(), status.Cluster!.Groups[0].Workers.Select(w => w.Pid).Order());
        Assert.Equal(2, clusterd.Events("web").Count(e => e.Event == "fork"));
    }

    [Fact]
    public async Task Reload_DryRun_PrintsThePlanAndChangesNothing()
    {
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker(), 1, []) + Toml.Group("old", Toml.Worker(), 1, []), output);
        await clusterd.WaitForEventAsync("listening", "web");
        await RewriteAsync(clusterd, Toml.Group("web", Toml.Worker(), 3, [], "reuseport", "notify", "env = { MODE = \"x\" }")
            + Toml.Group("new", Toml.Worker(), 1, []));

        var reload = await clusterd.RequestAsync(new Request { Command = Commands.Reload, DryRun = true });

        Assert.True(reload.Ok, reload.Error?.Message);
        Assert.Equal(["new"], reload.Plan!.Added);
        Assert.Equal(["old"], reload.Plan.Removed);
        var web = Assert.Single(reload.Plan.Changed);
        Assert.True(web.Rolls);
        Assert.Contains("workers: 1 -> 3", web.Changes);
        Assert.Contains("env.MODE added", web.Changes);
        var status = await clusterd.RequestAsync(new Request { Command = Commands.Status });
        Assert.Equal(["old", "web"], status.Cluster!.Groups.Select(g => g.Name).Order());
    }

    [Fact]
    public async Task Reload_DryRunOfAChangeTheReloadRefuses_IsRefusedTheSameWay()
    {
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 1, [$"127.0.0.1:{Ports.Free()}"]), output);
        await clusterd.WaitForEventAsync("listening", "web");
        var text = await File.ReadAllTextAsync(clusterd.ConfigPath);
        await File.WriteAllTextAsync(clusterd.ConfigPath, text.Replace("sharing = \"reuseport\"", "sharing = \"shared\"", StringComparison.Ordinal));

        var dryRun = await clusterd.RequestAsync(new Request { Command = Commands.Reload, DryRun = true });
        var real = await clusterd.RequestAsync(new Request { Command = Commands.Reload });

        Assert.Equal((false, ErrorCodes.InvalidConfig), (dryRun.Ok, dryRun.Error?.Code));
        Assert.Equal((dryRun.Ok, dryRun.Error?.Code, dryRun.Error?.Message), (real.Ok, real.Error?.Code, real.Error?.Message));
        Assert.Contains("'sharing' cannot change", real.Error!.Message, StringComparison.Ordinal);
        Assert.Single(clusterd.Events("web"), e => e.Event == "fork");
    }

    [Fact]
    public async Task Reload_DryRunOfAnAddressSomeoneElseHolds_IsRefusedLikeTheReload()
    {
        using var squatter = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        squatter.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        squatter.Listen();
        var taken = ((System.Net.IPEndPoint)squatter.LocalEndPoint!).Port;
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 1, []), output);
        await clusterd.WaitForEventAsync("listening", "web");
        await RewriteAsync(clusterd, Toml.Group("web", Toml.Worker(), 1, []) + Toml.Group("api", Toml.Worker(), 1, [$"127.0.0.1:{taken}"]));

        var dryRun = await clusterd.RequestAsync(new Request { Command = Commands.Reload, DryRun = true });
        var real = await clusterd.RequestAsync(new Request { Command = Commands.Reload });

        Assert.Equal((false, ErrorCodes.Failed), (dryRun.Ok, dryRun.Error?.Code));
        Assert.Equal((false, ErrorCodes.Failed), (real.Ok, real.Error?.Code));
        Assert.Contains($"127.0.0.1:{taken}", dryRun.Error!.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(clusterd.Events("api"), e => e.Event == "fork");
    }

    [Fact]
    public async Task Reload_WatchdogTurnedOff_RollsTheWorkers_AndTheOldTimerKillsNobody()
    {
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker("--watchdog-ms", "100"), 2, [], "reuseport", "notify", "watchdog_timeout = \"1s\""), output);
        var before = await clusterd.WaitForEventAsync("listening", "web", count: 2);
        await RewriteAsync(clusterd, Toml.Group("web", Toml.Worker(), 2, [], "reuseport", "notify", "watchdog_timeout = \"0s\""));

        var reload = await clusterd.RequestAsync(new Request { Command = Commands.Reload });
        var status = await clusterd.RequestAsync(new Request { Command = Commands.Status });

        // In place, the ready workers kept their last watchdog timer and were SIGABRTed a second later; they must roll.
        Assert.True(reload.Ok, reload.Error?.Message);
        Assert.True(Assert.Single(reload.Plan!.Changed).Rolls);
        Assert.All(status.Cluster!.Groups[0].Workers, w => Assert.DoesNotContain(w.Pid, before.Select(b => b.Pid)));
        Assert.DoesNotContain(clusterd.Events("web"), e => e.Event == "exit" && e.Reason == "watchdog");
    }

    [Fact]
    public async Task Reload_ControlTableChanged_SaysItWaitsForARestart()
    {
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 1, []), output);
        await clusterd.WaitForEventAsync("listening", "web");
        var text = await File.ReadAllTextAsync(clusterd.ConfigPath);
        await File.WriteAllTextAsync(clusterd.ConfigPath, text.Replace("[control]\n", "[control]\nread_group = \"nogroup\"\n", StringComparison.Ordinal));

        var (code, stdout, stderr) = await Clusterctl.RunAsync(clusterd.ControlSocket, null, "reload");

        Assert.True(code == 0, stderr);
        Assert.Contains("note: [control] changed: it takes effect when clusterd restarts", stdout, StringComparison.Ordinal);
        Assert.Contains(clusterd.Entries, e => e.EventId == 18 && e.Message.Contains("[control] changed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Reload_AddRemoveAndChange_AppliesThePlanLeavingUnchangedGroupsAlone()
    {
        var port = Ports.Free();
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker(), 2, [$"127.0.0.1:{port}"]) + Toml.Group("old", Toml.Worker(), 1, []) + Toml.Group("calm", Toml.Worker(), 1, []),
            output);
        await clusterd.WaitForEventAsync("listening", "web", count: 2);
        var calm = (await clusterd.WaitForEventAsync("listening", "calm"))[0];
        await clusterd.WaitForEventAsync("listening", "old");
        await RewriteAsync(clusterd,
            Toml.Group("web", Toml.Worker(), 2, [$"127.0.0.1:{port}"], "reuseport", "notify", "env = { RELEASE = \"2\" }")
            + Toml.Group("calm", Toml.Worker(), 1, []) + Toml.Group("new", Toml.Worker(), 1, []));

        Response reload;
        string[] failures;
        await using (var load = new Load(port))
        {
            await load.WaitForSuccessesAsync(100);
            reload = await clusterd.RequestAsync(new Request { Command = Commands.Reload });
            failures = load.Failures.ToArray();
        }

        Assert.True(reload.Ok, reload.Error?.Message);
        Assert.Empty(failures);
        var env = await Http.GetJsonAsync(port, "/env");
        Assert.Equal("2", env.GetProperty("CLUSTERD_GENERATION").GetString());
        var status = await clusterd.RequestAsync(new Request { Command = Commands.Status });
        Assert.Equal(["calm", "new", "web"], status.Cluster!.Groups.Select(g => g.Name).Order());
        Assert.Equal(calm.Pid, status.Cluster.Groups.Single(g => g.Name == "calm").Workers.Single().Pid);
        await clusterd.WaitForEventAsync("exit", "old", also: e => e.Reason == "stopped");
    }

    [Fact]
    public async Task Reload_WorkersCountOnly_ScalesInPlaceWithoutRestarting()
    {
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 1, []), output);
        var first = (await clusterd.WaitForEventAsync("listening", "web"))[0];
        await RewriteAsync(clusterd, Toml.Group("web", Toml.Worker(), 2, []));

        var reload = await clusterd.RequestAsync(new Request { Command = Commands.Reload });
        await clusterd.WaitForEventAsync("listening", "web", count: 2);

        Assert.True(reload.Ok, reload.Error?.Message);
        Assert.False(Assert.Single(reload.Plan!.Changed).Rolls);
        Assert.True(Native.IsAlive(first.Pid));
        Assert.DoesNotContain(clusterd.Events("web"), e => e.Event == "exit");
    }

    [Fact]
    public async Task Reload_ChangedListen_HandsOverKeptSocketsAndOpensNewOnes()
    {
        var (kept, added) = (Ports.Free(), Ports.Free());
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 1, [$"127.0.0.1:{kept}"]), output);
        await clusterd.WaitForEventAsync("listening", "web");
        await RewriteAsync(clusterd, Toml.Group("web", Toml.Worker(), 1, [$"127.0.0.1:{kept}", $"127.0.0.1:{added}"]));

        var reload = await clusterd.RequestAsync(new Request { Command = Commands.Reload });

        Assert.True(reload.Ok, reload.Error?.Message);
        Assert.Equal(200, (await Http.GetAsync(kept)).Status);
        Assert.Equal(200, (await Http.GetAsync(added)).Status);
        var env = await Http.GetJsonAsync(added, "/env");
        Assert.Equal("2", env.GetProperty("LISTEN_FDS").GetString());
    }

    [Fact]
    public async Task Sighup_ReloadsLikeTheReloadCommand()
    {
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 1, []), output);
        await clusterd.WaitForEventAsync("listening", "web");
        await RewriteAsync(clusterd, Toml.Group("web", Toml.Worker(), 1, []) + Toml.Group("extra", Toml.Worker(), 1, []));

        clusterd.Signal(1 /* SIGHUP */);

        await clusterd.WaitForEventAsync("listening", "extra");
        await clusterd.WaitForAsync(e => e.EventId == 9, what: "reload done");
    }
}
