using System.Globalization;
using System.Text.Json;

namespace Clusterd.SystemTests;

/// <summary>
/// The clusterd image under Docker (docs/containers.md, ADR 0007): clusterd as the container's PID 1 (which makes it
/// run under clusterd-exec --init), `docker stop`, a crash loop, and workers = "auto" under --cpus. The containers have
/// no network: every check runs inside them (docker exec) or reads their logs.
/// </summary>
[Collection(ClusterdImage.Collection)]
public sealed class ContainerTests(ClusterdImage image) : IDisposable
{
    private const int MetricsPort = 9464;
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Config(string workers = "2", string extraGroups = "") => $$"""
        [control]
        socket = "/run/clusterd/clusterd.sock"

        [metrics]
        listen = "127.0.0.1:{{MetricsPort}}"

        [groups.hello]
        command = ["/usr/lib/clusterd/hello/hello"]
        workers = {{workers}}
        listen = ["127.0.0.1:8080"]
        ready = "notify"
        user = "nobody"
        group = "nogroup"
        stop_timeout = "10s"
        {{extraGroups}}
        """;

    /// <summary>pid, ppid, state and command line of every process in the container, one per line.</summary>
    private static async Task<string[]> ProcessesAsync(string container) =>
        (await ClusterdImage.ExecAsync(container, "ps -eo pid=,ppid=,stat=,args=")).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The oldest process whose command line matches <paramref name="pattern"/> (write "[s]leep" so the shell running pgrep does not match).</summary>
    private static async Task<int> PidOfAsync(string container, string pattern)
    {
        var pid = (await ClusterdImage.ExecAsync(container, $"pgrep -f -o '{pattern}'")).Stdout.Trim();
        return pid.Length == 0 ? 0 : int.Parse(pid, CultureInfo.InvariantCulture);
    }

    private static async Task<int> ParentOfAsync(string container, int pid) =>
        int.Parse((await ClusterdImage.ExecAsync(container, $"ps -o ppid= -p {pid}")).Stdout.Trim() is { Length: > 0 } p ? p : "0",
            CultureInfo.InvariantCulture);

    [Requires(RequiresAttribute.Docker, RequiresAttribute.DebFile)]
    public async Task Pid1_OrphansOfWorkersAndOfDockerExec_AreReaped_NoZombieIsLeft()
    {
        // A worker that double-forks: its child starts `sleep 1001` in the background and exits, orphaning it.
        var id = await image.RunAsync(Config(extraGroups: """

            [groups.forker]
            command = ["/bin/sh", "-c", "/bin/sh -c '/bin/sleep 1001 &'; exec /bin/sleep 1000"]
            ready = "started"
            """), _dir);
        await ClusterdImage.UntilReadyAsync(id, MetricsPort);
        // A process docker exec starts is outside clusterd's tree: its orphan goes to PID 1.
        await ClusterdImage.MustAsync("exec", id, "sh", "-c", "/bin/sleep 1002 & exit 0");

        Assert.Equal("clusterd-exec", (await ClusterdImage.ExecAsync(id, "ps -o comm= -p 1")).Stdout.Trim());
        var clusterd = await PidOfAsync(id, "^/usr/bin/clusterd ");
        Assert.Equal(1, await ParentOfAsync(id, clusterd));
        var workerOrphan = await PidOfAsync(id, "[s]leep 1001");
        var execOrphan = await PidOfAsync(id, "[s]leep 1002");
        await ClusterdImage.UntilAsync(async () => await ParentOfAsync(id, workerOrphan) == clusterd,
            "the worker's orphan to be reparented to clusterd, its subreaper");
        Assert.Equal(1, await ParentOfAsync(id, execOrphan));

        await ClusterdImage.MustAsync("exec", id, "kill", "-9", workerOrphan.ToString(CultureInfo.InvariantCulture), execOrphan.ToString(CultureInfo.InvariantCulture));

        // A zombie stays in the process table until its parent reaps it.
        await ClusterdImage.UntilAsync(async () => !(await ProcessesAsync(id)).Any(p => p.Contains("sleep 100", StringComparison.Ordinal)
            && !p.Contains("sleep 1000", StringComparison.Ordinal)), "both orphans to be reaped");
        var zombies = (await ProcessesAsync(id)).Where(p => p.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2].StartsWith('Z')).ToArray();
        Assert.True(zombies.Length == 0, "zombies:\n" + string.Join('\n', zombies));
    }

    [Requires(RequiresAttribute.Docker, RequiresAttribute.DebFile)]
    public async Task DockerStop_StopsTheWorkersGracefully_AndTheContainerExits0()
    {
        var id = await image.RunAsync(Config(), _dir);
        await ClusterdImage.UntilReadyAsync(id, MetricsPort);

        await ClusterdImage.MustAsync("stop", "-t", "60", id);

        Assert.Equal("0", await ClusterdImage.MustAsync("inspect", "-f", "{{.State.ExitCode}}", id));
        var exits = Entries(await ClusterdImage.LogLinesAsync(id))
            .Where(e => Field(e, "Event") == "exit" && e.TryGetProperty("group", out var group) && group.GetString() == "hello")
            .ToArray();
        Assert.Equal(2, exits.Length);
        Assert.All(exits, e => Assert.Equal("stopped", Field(e, "Reason")));
    }

    [Requires(RequiresAttribute.Docker, RequiresAttribute.DebFile)]
    public async Task CrashLoopingGroup_StopsTheContainer_WithStatus3()
    {
        var id = await image.RunAsync(Config(extraGroups: """

            [groups.crashing]
            command = ["/bin/false"]
            ready = "started"
            max_restarts = 1
            backoff = { initial = "50ms", max = "100ms", factor = 2.0 }
            """), _dir);

        Assert.Equal("3", await ClusterdImage.MustAsync("wait", id));
        Assert.Contains(await ClusterdImage.LogLinesAsync(id), l => l.Contains("exit_on_failed", StringComparison.Ordinal));
    }

    [Requires(RequiresAttribute.Docker, RequiresAttribute.DebFile)]
    public async Task WorkersAuto_UnderCpus1_RunsOneWorker()
    {
        var id = await image.RunAsync(Config(workers: "\"auto\""), _dir, "--cpus", "1");
        await ClusterdImage.UntilReadyAsync(id, MetricsPort);

        var started = Assert.Single(Entries(await ClusterdImage.LogLinesAsync(id)), e => e.GetProperty("event_id").GetInt32() == 1);
        Assert.Equal("1", Field(started, "Workers"));
        Assert.Single(await ProcessesAsync(id), p => p.EndsWith("/usr/lib/clusterd/hello/hello", StringComparison.Ordinal));
    }

    /// <summary>The JSON lines of clusterd's console (docs/logging.md: one object per line), skipping anything else.</summary>
    private static JsonElement[] Entries(string[] lines)
    {
        var entries = new List<JsonElement>();
        foreach (var line in lines.Where(l => l.StartsWith('{')))
        {
            try
            {
                using var document = JsonDocument.Parse(line);
                entries.Add(document.RootElement.Clone());
            }
            catch (JsonException)
            {
                // a line cut short by the container's end
            }
        }
        return [.. entries];
    }

    /// <summary>A value of the message's template, under "fields".</summary>
    private static string? Field(JsonElement entry, string name) =>
        entry.TryGetProperty("fields", out var fields) && fields.TryGetProperty(name, out var value) ? value.ToString() : null;
}
