using System.Text.Json;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;
using Clusterctl.Commands;

namespace Clusterctl.Tests;

public sealed class HealthCommandTests
{
    [Fact]
    public async Task Health_AGroupShort_PrintsEachVerdictAndExitsOne()
    {
        await using var daemon = new FakeDaemon(_ => new Response { Ok = true, Cluster = StatusOutputTests.Snapshot });

        var result = await Cli.RunAsync("health", "--socket", daemon.SocketPath);

        Assert.Equal(ExitCodes.No, result.ExitCode);
        Assert.Equal("""
            GROUP  STATE     READY  HEALTHY
            web    degraded  2/3    no: 2 of 3 ready, 3 needed
            jobs   running   1/1    yes
            batch  stopped   0/0    no: stopped

            """, result.Out);
        Assert.Equal(Clusterd.Protocol.Messages.Commands.Status, daemon.Single().Command);
    }

    [Fact]
    public async Task Health_OneHealthyGroup_ExitsZeroAndAsksForThatGroup()
    {
        await using var daemon = new FakeDaemon(_ => new Response { Ok = true, Cluster = new StatusData([StatusOutputTests.Snapshot.Groups[1]]) });

        var result = await Cli.RunAsync("health", "jobs", "--json", "--socket", daemon.SocketPath);

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Equal("jobs", daemon.Single().Group);
        using var json = JsonDocument.Parse(result.Out);
        Assert.True(json.RootElement.GetProperty("healthy").GetBoolean());
        var jobs = json.RootElement.GetProperty("groups")[0];
        Assert.Equal(1, jobs.GetProperty("ready").GetInt32());
        Assert.Equal(JsonValueKind.Null, jobs.GetProperty("problem").ValueKind);
    }

    [Fact]
    public async Task Health_NoSuchGroup_ExitsOneWithTheDaemonsError()
    {
        await using var daemon = new FakeDaemon(_ => Response.Failure(0, ErrorCodes.NotFound, "no group 'nope'"));

        var result = await Cli.RunAsync("health", "nope", "--socket", daemon.SocketPath);

        Assert.Equal(ExitCodes.No, result.ExitCode);
        Assert.Contains("no group 'nope'", result.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(PublicGroupState.Running, 2, 2, null)]
    [InlineData(PublicGroupState.Running, 0, 0, null)]
    [InlineData(PublicGroupState.Starting, 1, 2, "1 of 2 ready, 2 needed")]
    [InlineData(PublicGroupState.Degraded, 0, 3, "0 of 3 ready, 3 needed")]
    [InlineData(PublicGroupState.Stopped, 0, 0, "stopped")]
    [InlineData(PublicGroupState.Failed, 0, 2, "failed")]
    public void Problem_EveryDesiredWorkerReadyAndNotStopped_IsHealthy(PublicGroupState state, int ready, int desired, string? problem) =>
        Assert.Equal(problem, HealthCommand.Problem(new GroupStatus("web", desired, ready, state, 1, [], [])));

    [Theory]
    [InlineData(2, null)]
    [InlineData(1, "1 of 4 ready, 2 needed")]
    public void Problem_MinReady_IsWhatTheGroupNeeds(int ready, string? problem) =>
        Assert.Equal(problem, HealthCommand.Problem(new GroupStatus("web", 4, ready, PublicGroupState.Degraded, 1, [], [], RequiredReady: 2)));
}
