using System.Text.Json;
using System.Text.RegularExpressions;
using Clusterctl.Output;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;

namespace Clusterctl.Tests;

/// <summary>Golden output: people read it and scripts cut it, so its shape is pinned exactly.</summary>
public sealed class StatusOutputTests
{
    internal static readonly StatusData Snapshot = new(
    [
        new GroupStatus("web", Desired: 3, Ready: 2, State: PublicGroupState.Degraded, Generation: 3, Listen: ["127.0.0.1:8080", "[::1]:8080"],
        [
            new WorkerStatus(0, 41234, PublicWorkerState.Ready, 3, 0, UptimeSeconds: 192.4, null, null, null, CpuSeconds: 1.254, RssBytes: 25_270_000, Status: "serving"),
            new WorkerStatus(1, 41240, PublicWorkerState.Ready, 3, 2, UptimeSeconds: 45, "crashed", null, 11, CpuSeconds: 0.1, RssBytes: 20_761_804, null),
            new WorkerStatus(2, 0, PublicWorkerState.Backoff, 3, 5, null, "exited", 1, null, null, null, null),
        ]),
        new GroupStatus("jobs", Desired: 1, Ready: 1, State: PublicGroupState.Running, Generation: 1, Listen: [],
        [
            new WorkerStatus(0, 5120, PublicWorkerState.Ready, 1, 0, UptimeSeconds: 93_784, null, null, null, CpuSeconds: 3600, RssBytes: 1_288_490_189, null),
        ]),
        new GroupStatus("batch", Desired: 0, Ready: 0, State: PublicGroupState.Stopped, Generation: 2, Listen: [], []),
    ]);

    private static async Task<Cli.Result> StatusAsync(params string[] extra)
    {
        await using var daemon = new FakeDaemon(_ => new Response { Ok = true, Cluster = Snapshot });
        return await Cli.RunAsync(["status", "--socket", daemon.SocketPath, .. extra]);
    }

    [Fact]
    public async Task Status_Redirected_PrintsGoldenTableWithoutColour()
    {
        var result = await StatusAsync();
        Assert.Equal(0, result.ExitCode);
        const string expected = """
            web  degraded  2/3 ready  generation 3  listen 127.0.0.1:8080, [::1]:8080
              SLOT  PID    STATE    UPTIME  RESTARTS  LAST-EXIT         CPU    RSS
              0     41234  ready    3m12s   0         -                 1.25s  24.1 MiB
              1     41240  ready    45s     2         crashed(SIGSEGV)  0.10s  19.8 MiB
              2     -      backoff  -       5         exited(1)         -      -

            jobs  running  1/1 ready  generation 1
              SLOT  PID   STATE  UPTIME  RESTARTS  LAST-EXIT  CPU       RSS
              0     5120  ready  1d02h   0         -          3600.00s  1.2 GiB

            batch  stopped  0/0 ready  generation 2
              (no workers)

            """;
        Assert.Equal(expected, result.Out);
        Assert.DoesNotContain('\u001b', result.Out);
    }

    [Fact]
    public async Task Status_GroupWithAHealthCheck_ShowsTheLastResultItsLatencyAndWhyItFailed()
    {
        var checkedGroup = new GroupStatus("api", Desired: 2, Ready: 1, State: PublicGroupState.Degraded, Generation: 1, Listen: [],
        [
            new WorkerStatus(0, 700, PublicWorkerState.Ready, 1, 0, UptimeSeconds: 60, null, null, null, CpuSeconds: 1, RssBytes: 1 << 20, null, Health: "pass", HealthLatencySeconds: 0.0031),
            new WorkerStatus(1, 701, PublicWorkerState.Starting, 1, 0, UptimeSeconds: 1, null, null, null, CpuSeconds: 0, RssBytes: 1 << 20, null, Health: "fail", HealthLatencySeconds: 2,
                HealthFailure: "exited 1: db unreachable\nretrying\n"),
        ]);
        await using var daemon = new FakeDaemon(_ => new Response { Ok = true, Cluster = new StatusData([checkedGroup]) });

        var result = await Cli.RunAsync(["status", "--socket", daemon.SocketPath]);

        const string expected = """
            api  degraded  1/2 ready  generation 1
              SLOT  PID  STATE     UPTIME  RESTARTS  LAST-EXIT  CPU    RSS      HEALTH
              0     700  ready     1m00s   0         -          1.00s  1.0 MiB  pass 3ms
              1     701  starting  1s      0         -          0.00s  1.0 MiB  fail 2s
              slot 1 health: exited 1: db unreachable / retrying

            """;
        Assert.Equal(expected, result.Out);
    }

    [Fact]
    public async Task Status_InPages_IsPrintedAsOneAnswer()
    {
        var web = Snapshot.Groups[0];
        await using var daemon = new FakeDaemon(ExitCodeTests.Frames(
            new Response { Ok = true, More = true, Cluster = new StatusData([web with { Workers = web.Workers.Take(2).ToArray() }]) },
            new Response { Ok = true, Cluster = new StatusData([web with { Workers = web.Workers.Skip(2).ToArray() }, .. Snapshot.Groups.Skip(1)]) }));
        var paged = await Cli.RunAsync("status", "--socket", daemon.SocketPath);
        var whole = await StatusAsync();
        Assert.Equal(0, paged.ExitCode);
        Assert.Equal(whole.Out, paged.Out);
    }

    [Fact]
    public async Task Status_AtATerminal_EscapesTheDaemonsText()
    {
        var hostile = Snapshot with { Groups = [Snapshot.Groups[0] with { Listen = ["unix:/run/\u001b]0;x\u0007.sock"] }] };
        await using var daemon = new FakeDaemon(_ => new Response { Ok = true, Cluster = hostile });
        var result = await Cli.RunAtTerminalAsync("status", "--socket", daemon.SocketPath);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("listen unix:/run/\\x1b]0;x\\x07.sock", result.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("\u0007", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_InColour_PaintsEachWorkersStateAndAlignsAsWithout()
    {
        using var plain = new StringWriter { NewLine = "\n" };
        using var painted = new StringWriter { NewLine = "\n" };

        StatusRenderer.Write(plain, Snapshot, color: false, terminal: true);
        StatusRenderer.Write(painted, Snapshot, color: true, terminal: true);

        Assert.Contains("  \u001b[32mready\u001b[0m    3m12s", painted.ToString(), StringComparison.Ordinal);
        Assert.Contains("  \u001b[33mbackoff\u001b[0m  -", painted.ToString(), StringComparison.Ordinal);
        Assert.Equal(plain.ToString(), Regex.Replace(painted.ToString(), "\u001b\\[[0-9;]*m", ""));
    }

    [Fact]
    public async Task StatusJson_HasSnakeCaseFieldsOfStatusData()
    {
        var result = await StatusAsync("--json");
        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.Out);
        var web = json.RootElement.GetProperty("groups")[0];
        Assert.Equal("web", web.GetProperty("name").GetString());
        Assert.Equal(3, web.GetProperty("desired").GetInt32());
        Assert.Equal(2, web.GetProperty("ready").GetInt32());
        Assert.Equal("degraded", web.GetProperty("state").GetString());
        Assert.Equal("127.0.0.1:8080", web.GetProperty("listen")[0].GetString());
        var worker = web.GetProperty("workers")[0];
        Assert.Equal(0, worker.GetProperty("slot").GetInt32());
        Assert.Equal(41234, worker.GetProperty("pid").GetInt32());
        Assert.Equal("ready", worker.GetProperty("state").GetString());
        Assert.Equal(0, worker.GetProperty("restarts").GetInt32());
        Assert.Equal(192.4, worker.GetProperty("uptime_seconds").GetDouble());
        Assert.Equal(25_270_000, worker.GetProperty("rss_bytes").GetInt64());
        Assert.Equal(1.254, worker.GetProperty("cpu_seconds").GetDouble());
        Assert.Equal(11, web.GetProperty("workers")[1].GetProperty("last_exit_signal").GetInt32());
    }

    [Fact]
    public async Task Status_NoGroups_SaysSo()
    {
        await using var daemon = new FakeDaemon(_ => new Response { Ok = true, Cluster = new StatusData([]) });
        var result = await Cli.RunAsync("status", "--socket", daemon.SocketPath);
        Assert.Equal("no groups\n", result.Out);
    }

    [Fact]
    public async Task Status_AnswerWithoutCluster_ExitsSystem()
    {
        await using var daemon = new FakeDaemon(_ => Response.Success(0));
        var result = await Cli.RunAsync("status", "--socket", daemon.SocketPath);
        Assert.Equal(ExitCodes.System, result.ExitCode);
        Assert.Contains("same release", result.Err, StringComparison.Ordinal);
    }
}
