using Clusterd.Protocol;
using Clusterd.Protocol.Messages;

namespace Clusterctl.Tests;

public sealed class ReloadTests
{
    [Fact]
    public async Task Reload_InvalidConfig_PrintsEveryErrorLineAndExitsNo()
    {
        await using var daemon = new FakeDaemon(r => Response.Failure(r.Id, ErrorCodes.InvalidConfig, "the config has 2 errors; nothing was changed") with
        {
            ConfigErrors =
            [
                "/etc/clusterd/clusterd.toml:12:5: worker 'web': 'count' must be >= 1 (got 0)",
                "/etc/clusterd/clusterd.toml:20:1: unknown key 'lisen'; did you mean 'listen'?",
            ],
        });
        var result = await Cli.RunAsync("reload", "--socket", daemon.SocketPath);
        Assert.Equal(ExitCodes.No, result.ExitCode);
        Assert.Equal("""
            /etc/clusterd/clusterd.toml:12:5: worker 'web': 'count' must be >= 1 (got 0)
            /etc/clusterd/clusterd.toml:20:1: unknown key 'lisen'; did you mean 'listen'?
            clusterctl: the config has 2 errors; nothing was changed (invalid_config)

            """, result.Err);
        Assert.Equal("", result.Out);
    }

    [Fact]
    public async Task ReloadDryRun_PrintsThePlan()
    {
        var plan = new ReloadPlan(
            Added: ["api"],
            Removed: ["legacy"],
            Changed: [new GroupChange("web", ["command changed", "env.NODE_ENV changed"], Rolls: true), new GroupChange("jobs", ["workers: 2 -> 4"], Rolls: false)],
            Unchanged: ["batch"]);
        await using var daemon = new FakeDaemon(_ => new Response { Ok = true, Plan = plan });
        var result = await Cli.RunAsync("reload", "--dry-run", "--socket", daemon.SocketPath);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("""
            dry run: nothing was changed
            + api     added
            - legacy  removed
            ~ web     rolling restart: command changed; env.NODE_ENV changed
            ~ jobs    in place: workers: 2 -> 4
            = batch   unchanged

            """, result.Out);
    }

    [Fact]
    public async Task ReloadJson_PrintsThePlanObject()
    {
        await using var daemon = new FakeDaemon(_ => new Response { Ok = true, Plan = new ReloadPlan(["api"], [], [], ["web"]) });
        var result = await Cli.RunAsync("reload", "--json", "--socket", daemon.SocketPath);
        using var json = System.Text.Json.JsonDocument.Parse(result.Out);
        Assert.Equal("api", json.RootElement.GetProperty("added")[0].GetString());
        Assert.Equal("web", json.RootElement.GetProperty("unchanged")[0].GetString());
    }
}
