using Clusterd.Protocol;
using Clusterd.Protocol.Messages;

namespace Clusterctl.Tests;

/// <summary>Each command line must become exactly the request the protocol documents for it.</summary>
public sealed class CommandRequestTests
{
    private static async Task<Request> SendAsync(params string[] args)
    {
        await using var daemon = new FakeDaemon(_ => Response.Success(0, "done"));
        var result = await Cli.RunAsync([.. args, "--socket", daemon.SocketPath]);
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Err}");
        return daemon.Single();
    }

    [Fact]
    public async Task Signal_GroupSlashSlot_SendsGroupSlotAndSignal()
    {
        var request = await SendAsync("signal", "web/2", "HUP");
        Assert.Equal(("signal", "web", 2, "HUP"), (request.Command, request.Group, request.Slot, request.Signal));
    }

    [Fact]
    public async Task Signal_WholeGroupLowerCaseName_SendsNoSlotAndUpperCaseName()
    {
        var request = await SendAsync("signal", "web", "sigusr1");
        Assert.Equal(("web", (int?)null, "SIGUSR1"), (request.Group, request.Slot, request.Signal));
    }

    [Fact]
    public async Task Scale_GroupAndCount_SendsCount()
    {
        var request = await SendAsync("scale", "web", "4");
        Assert.Equal(("scale", "web", (int?)4), (request.Command, request.Group, request.Count));
    }

    [Fact]
    public async Task Restart_AllWithMaxSurge_SendsAllAndSurge()
    {
        var request = await SendAsync("restart", "all", "--max-surge", "2");
        Assert.Equal(("restart", "all", (int?)2, (int?)null), (request.Command, request.Group, request.MaxSurge, request.MaxUnavailable));
    }

    [Fact]
    public async Task Restart_MaxUnavailable_SendsIt()
    {
        var request = await SendAsync("restart", "web", "--max-unavailable", "1");
        Assert.Equal(("web", (int?)null, (int?)1), (request.Group, request.MaxSurge, request.MaxUnavailable));
    }

    [Fact]
    public async Task Stop_Group_SendsStop()
    {
        var request = await SendAsync("stop", "web");
        Assert.Equal(("stop", "web"), (request.Command, request.Group));
    }

    [Fact]
    public async Task Start_Group_SendsStart()
    {
        var request = await SendAsync("start", "web");
        Assert.Equal(("start", "web"), (request.Command, request.Group));
    }

    [Fact]
    public async Task Reload_DryRun_SendsDryRun()
    {
        var request = await SendAsync("reload", "--dry-run");
        Assert.Equal(("reload", true), (request.Command, request.DryRun));
    }

    [Fact]
    public async Task Reload_Plain_SendsNoDryRun()
    {
        var request = await SendAsync("reload");
        Assert.False(request.DryRun);
    }

    [Fact]
    public async Task Status_Group_SendsGroup()
    {
        await using var daemon = new FakeDaemon(_ => new Response { Ok = true, Cluster = new StatusData([]) });
        var result = await Cli.RunAsync("status", "web", "--socket", daemon.SocketPath);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(("status", "web"), (daemon.Single().Command, daemon.Single().Group));
    }

    [Fact]
    public async Task Events_SinceAndFollow_SendsBoth()
    {
        var request = await SendAsync("events", "--since", "41", "--follow");
        Assert.Equal(("events", (long?)41, true), (request.Command, request.Since, request.Follow));
    }

    [Fact]
    public async Task Logs_SlotLinesFollow_SendsAll()
    {
        var request = await SendAsync("logs", "web/1", "-n", "50", "-f");
        Assert.Equal(("logs", "web", (int?)1, (int?)50, true), (request.Command, request.Group, request.Slot, request.Lines, request.Follow));
    }

    [Fact]
    public async Task Ping_SendsPing()
    {
        Assert.Equal("ping", (await SendAsync("ping")).Command);
    }

    [Fact]
    public async Task GlobalOptionsBeforeCommand_AreAccepted()
    {
        await using var daemon = new FakeDaemon(_ => Response.Success(0, "pong"));
        var result = await Cli.RunAsync("--socket", daemon.SocketPath, "--timeout", "2s", "ping");
        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("pong from " + daemon.SocketPath, result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_PrintsClientAndDaemon()
    {
        var started = new DateTimeOffset(2025, 5, 1, 12, 0, 0, TimeSpan.Zero);
        await using var daemon = new FakeDaemon(_ => new Response { Ok = true, Version = new VersionInfo("0.1.0", ProtocolVersion.Current, 4242, started) });
        var result = await Cli.RunAsync("version", "--socket", daemon.SocketPath);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"clusterctl 0.1.0 (protocol {ProtocolVersion.Current})", result.Out, StringComparison.Ordinal);
        Assert.Contains($"clusterd   0.1.0 (protocol {ProtocolVersion.Current}, pid 4242, started 2025-05-01T12:00:00.000Z)", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Version_Json_HasClientAndDaemon()
    {
        await using var daemon = new FakeDaemon(_ => new Response { Ok = true, Version = new VersionInfo("0.1.0", 1, 4242, DateTimeOffset.UnixEpoch) });
        var result = await Cli.RunAsync("version", "--json", "--socket", daemon.SocketPath);
        using var json = System.Text.Json.JsonDocument.Parse(result.Out);
        Assert.Equal("0.1.0", json.RootElement.GetProperty("client").GetProperty("version").GetString());
        Assert.Equal(4242, json.RootElement.GetProperty("daemon").GetProperty("pid").GetInt32());
    }
}
