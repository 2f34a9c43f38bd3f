using System.Globalization;
using Clusterd.IntegrationTests.Infrastructure;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;
using Xunit.Abstractions;

namespace Clusterd.IntegrationTests.Supervision;

/// <summary>
/// Chaos under load: a group of HTTP workers taking new-connection-per-request traffic and a group of pre-fork servers
/// (children and a daemonized descendant each), while workers and their children are SIGKILLed, stopped and continued,
/// rolled, reloaded and scaled at random. Then clusterd must be answering, every slot ready, the journal in order with
/// one exit per fork, nothing running outside the live workers' trees, and every failed request explained by a kill.
/// <c>make test</c> runs it for a short fixed time; <c>make chaos</c> for <c>CHAOS_SECONDS</c> (docs/reliability.md).
/// </summary>
public class ChaosTests(ITestOutputHelper output)
{
    private const int WebWorkers = 3;
    private const int Concurrency = 4;

    private static readonly string s_prefork = Path.Combine(AppContext.BaseDirectory, "workers", "prefork.py");

    private static TimeSpan Duration => TimeSpan.FromSeconds(
        int.TryParse(Environment.GetEnvironmentVariable("CHAOS_SECONDS"), CultureInfo.InvariantCulture, out var s) ? s : 20);

    private static string Config(int webPort, int prePort, int webWorkers, int generation) =>
        Toml.Group("web", Toml.Worker(), webWorkers, [$"127.0.0.1:{webPort}"], "reuseport", "notify",
            "max_restarts = 1000", "restart_window = \"1s\"", "stop_timeout = \"2s\"", $"env = {{ CHAOS_GENERATION = \"{generation}\" }}")
        + Toml.Group("pre", ["/usr/bin/python3", s_prefork, "2"], 2, [$"127.0.0.1:{prePort}"], "reuseport", "started",
            "min_uptime = \"100ms\"", "max_restarts = 1000", "restart_window = \"1s\"", "stop_timeout = \"2s\"");

    [Fact]
    public async Task Chaos_UnderLoad_EverythingComesBack_AndOnlyKillsCostRequests()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("CHAOS_SEED"), CultureInfo.InvariantCulture, out var given) ? given : Random.Shared.Next();
        var random = new Random(seed);
        output.WriteLine($"chaos: seed {seed} (CHAOS_SEED={seed} repeats this run), {Duration.TotalSeconds:0} s");
        var (webPort, prePort) = (Ports.Free(), Ports.Free());
        var (webWorkers, generation) = (WebWorkers, 0);
        await using var clusterd = ClusterdProcess.Start(Config(webPort, prePort, webWorkers, generation), output: null);
        await clusterd.WaitForEventAsync("listening", "web", count: WebWorkers);
        await clusterd.WaitForEventAsync("listening", "pre", count: 2);

        var actions = new Dictionary<string, int>(StringComparer.Ordinal);
        var webKills = 0;
        var load = new Load(webPort, Concurrency);
        await load.WaitForSuccessesAsync(50);
        var stopped = new List<int>();
        var until = DateTime.UtcNow + Duration;
        while (DateTime.UtcNow < until)
        {
            var status = (await clusterd.RequestAsync(new Request { Command = Commands.Status })).Cluster!;
            var action = random.Next(8);
            var name = action switch
            {
                0 or 1 => KillWorker(status, "web", random, ref webKills),
                2 => KillWorker(status, "pre", random, ref webKills),
                3 => KillAChild(status, random),
                4 => StopAWhile(status, random, stopped),
                5 => await RequestAsync(clusterd, new Request { Command = Commands.Restart, Group = random.Next(2) == 0 ? "web" : "pre" }, "restart"),
                6 => await ReloadAsync(clusterd, Config(webPort, prePort, webWorkers, ++generation), "reload (rolls web)"),
                _ => await ReloadAsync(clusterd, Config(webPort, prePort, webWorkers = webWorkers == WebWorkers ? WebWorkers + 1 : WebWorkers, generation), "reload (scales web)"),
            };
            actions[name] = actions.GetValueOrDefault(name) + 1;
            // Continue what was stopped last time round: a stopped worker holds its requests, it must not lose them.
            foreach (var pid in stopped.ToArray())
            {
                Native.Kill(pid, Native.SIGCONT);
                stopped.Remove(pid);
            }
            await Task.Delay(random.Next(100, 500)); // the pace of the chaos, not a synchronisation
        }
        await load.DisposeAsync();

        var settled = await SettledAsync(clusterd, webWorkers);
        var summary = string.Join(", ", actions.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => $"{a.Key} {a.Value}"));
        output.WriteLine($"chaos: {summary}; {load.Succeeded} requests served, {load.Failures.Count} failed, {webKills} web workers killed");
        foreach (var failure in load.Failures.Take(10))
        {
            output.WriteLine($"  failed: {failure}");
        }

        Assert.Equal(0, (await clusterd.RequestAsync(new Request { Command = Commands.Ping })).Ok ? 0 : 1);
        Assert.All(settled.Groups.SelectMany(g => g.Workers), w => Assert.Equal(PublicWorkerState.Ready, w.State));
        AssertJournalInOrder(clusterd, settled);
        AssertNothingOutsideTheLiveTrees(clusterd.Pid, settled);
        // A SIGKILLed worker loses what it had accepted: at most one request per load loop. Nothing else may fail.
        Assert.True(load.Failures.Count <= webKills * Concurrency,
            $"{load.Failures.Count} failed requests, more than {Concurrency} for each of the {webKills} web workers killed");
    }

    private static string KillWorker(StatusData status, string group, Random random, ref int webKills)
    {
        var running = status.Groups.Single(g => g.Name == group).Workers.Where(w => w.Pid > 0).ToArray();
        if (running.Length == 0)
        {
            return "kill (nothing running)";
        }
        Native.Kill(running[random.Next(running.Length)].Pid, Native.SIGKILL);
        webKills += group == "web" ? 1 : 0;
        return $"kill -9 {group} worker";
    }

    private static string KillAChild(StatusData status, Random random)
    {
        var children = status.Groups.Single(g => g.Name == "pre").Workers.Where(w => w.Pid > 0)
            .SelectMany(w => ChildrenOf(w.Pid)).ToArray();
        if (children.Length == 0)
        {
            return "kill (no child)";
        }
        Native.Kill(children[random.Next(children.Length)], Native.SIGKILL);
        return "kill -9 a worker's child";
    }

    private static string StopAWhile(StatusData status, Random random, List<int> stopped)
    {
        var running = status.Groups.SelectMany(g => g.Workers).Where(w => w.Pid > 0).ToArray();
        if (running.Length == 0)
        {
            return "stop (nothing running)";
        }
        var pid = running[random.Next(running.Length)].Pid;
        Native.Kill(pid, Native.SIGSTOP);
        stopped.Add(pid);
        return "SIGSTOP/SIGCONT a worker";
    }

    private static async Task<string> RequestAsync(ClusterdProcess clusterd, Request request, string name)
    {
        var response = await clusterd.RequestAsync(request, TimeSpan.FromSeconds(60));
        Assert.True(response.Ok || response.Error!.Code is ErrorCodes.Busy or ErrorCodes.Failed, response.Error?.Message);
        return name + (response.Ok ? "" : $" ({response.Error!.Code})");
    }

    private static async Task<string> ReloadAsync(ClusterdProcess clusterd, string groups, string name)
    {
        var text = await File.ReadAllTextAsync(clusterd.ConfigPath);
        await File.WriteAllTextAsync(clusterd.ConfigPath, text[..text.IndexOf("[groups.", StringComparison.Ordinal)] + groups);
        return await RequestAsync(clusterd, new Request { Command = Commands.Reload }, name);
    }

    /// <summary>Every worker back to ready (a rollout may still be running when the chaos stops).</summary>
    private static async Task<StatusData> SettledAsync(ClusterdProcess clusterd, int webWorkers)
    {
        StatusData? status = null;
        await Wait.UntilAsync(async () =>
        {
            status = (await clusterd.RequestAsync(new Request { Command = Commands.Status })).Cluster!;
            return status.Groups.Single(g => g.Name == "web").Workers.Count == webWorkers
                && status.Groups.All(g => g.Workers.All(w => w.State == PublicWorkerState.Ready));
        }, "every slot ready again", TimeSpan.FromSeconds(60));
        return status!;
    }

    private static void AssertJournalInOrder(ClusterdProcess clusterd, StatusData settled)
    {
        var events = clusterd.Entries.Where(e => e.Event is not null).ToArray();
        var seqs = events.Select(e => long.Parse(e["Seq"]!, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(seqs.Order(), seqs);
        Assert.Equal(seqs.Length, seqs.Distinct().Count());
        foreach (var group in new[] { "web", "pre" })
        {
            var forks = events.Where(e => e.Group == group && e.Event == "fork").Select(e => e.Pid).ToHashSet();
            var exits = events.Where(e => e.Group == group && e.Event == "exit").Select(e => e.Pid).ToList();
            Assert.Equal(exits.Count, exits.Distinct().Count()); // no process exits twice
            Assert.Subset(forks, exits.ToHashSet());             // nothing exits that was not forked
            Assert.Equal(settled.Groups.Single(g => g.Name == group).Workers.Count, forks.Count - exits.Count); // the rest run now
        }
    }

    /// <summary>
    /// Every process under clusterd (its children, and theirs) belongs to a live worker: it descends from one, or sits in
    /// one's cgroup (a daemonized descendant is clusterd's child by then, as its subreaper). The one exception is the
    /// fork server (docs/adr/0005), a child of clusterd's with no children of its own: there is at most one.
    /// </summary>
    private static void AssertNothingOutsideTheLiveTrees(int clusterd, StatusData status)
    {
        var live = status.Groups.SelectMany(g => g.Workers).Select(w => w.Pid).ToHashSet();
        var liveCgroups = live.Select(CgroupOf).Where(c => c is not null && c != "/").ToHashSet();
        var forkServers = ChildrenOf(clusterd).Where(IsForkServer).ToList();
        Assert.True(forkServers.Count <= 1, $"{forkServers.Count} fork servers: {string.Join(", ", forkServers)}");
        Assert.All(forkServers, server => Assert.Empty(ChildrenOf(server)));
        foreach (var pid in Descendants(clusterd).Except(forkServers))
        {
            var top = pid;
            while (ParentOf(top) is int parent && parent != clusterd)
            {
                top = parent;
            }
            Assert.True(live.Contains(top) || liveCgroups.Contains(CgroupOf(pid)),
                $"pid {pid} ({File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ')}) runs outside every live worker's tree");
        }
    }

    private static IEnumerable<int> Descendants(int root)
    {
        foreach (var child in ChildrenOf(root))
        {
            if (Native.IsAlive(child))
            {
                yield return child;
            }
            foreach (var grandchild in Descendants(child))
            {
                yield return grandchild;
            }
        }
    }

    private static bool IsForkServer(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Split('\0') is ["clusterd-exec", "--fork-server", _, ""];
        }
        catch (IOException)
        {
            return false; // gone meanwhile
        }
    }

    /// <summary>The children of <paramref name="pid"/>; none once it is gone (a worker may die between status and here).</summary>
    private static int[] ChildrenOf(int pid)
    {
        try
        {
            return Directory.GetDirectories($"/proc/{pid}/task")
                .SelectMany(task => ReadOrEmpty(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
    }

    private static int? ParentOf(int pid)
    {
        var stat = ReadOrEmpty($"/proc/{pid}/stat");
        return stat.Length == 0 ? null : int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
    }

    private static string? CgroupOf(int pid) =>
        ReadOrEmpty($"/proc/{pid}/cgroup").Split('\n').FirstOrDefault(l => l.StartsWith("0::", StringComparison.Ordinal))?[3..];

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return "";
        }
    }
}
