using System.Globalization;
using System.Net;
using Clusterd.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Clusterd.IntegrationTests.Supervision;

/// <summary>
/// A pre-fork server (tests/fixtures/workers/prefork.py: an arbiter whose children serve the inherited socket, and a
/// daemonized descendant that leaves the process group) under clusterd: nothing of a dead worker outlives it, and a
/// stop leaves nothing at all.
/// </summary>
public class ContainmentTests(ITestOutputHelper output)
{
    private static readonly string s_prefork = Path.Combine(AppContext.BaseDirectory, "workers", "prefork.py");

    private static string Group(int port, params string[] args) =>
        Toml.Group("pre", ["/usr/bin/python3", s_prefork, .. args], 1, [$"127.0.0.1:{port}"], "reuseport", "started",
            "min_uptime = \"100ms\"", "stop_timeout = \"3s\"");

    /// <summary>The pids the worker says it is made of: "tree MAIN CHILD... [DAEMON]".</summary>
    private static async Task<int[]> TreeAsync(ClusterdProcess clusterd, int count = 1)
    {
        var lines = await clusterd.WaitForAsync(e => e.EventId == LogEntry.WorkerOutput && (e["Line"]?.StartsWith("tree ", StringComparison.Ordinal) ?? false),
            count, what: "the pre-fork server's tree");
        return lines[^1]["Line"]!.Split(' ')[1..].Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
    }

    private static async Task<HashSet<int>> ServingPidsAsync(int port, int requests)
    {
        var pids = new HashSet<int>();
        for (var i = 0; i < requests; i++)
        {
            var (status, body, _) = await Http.GetAsync(new IPEndPoint(IPAddress.Loopback, port));
            Assert.Equal(200, status);
            pids.Add(int.Parse(body.Trim()["pid=".Length..], CultureInfo.InvariantCulture));
        }
        return pids;
    }

    [Fact]
    public async Task Kill9OfAPreForkArbiter_TakesItsWholeTreeDown_ThenOnlyTheReplacementServes()
    {
        var port = Ports.Free();
        await using var clusterd = ClusterdProcess.Start(Group(port, "2"), output);
        var old = await TreeAsync(clusterd);
        await clusterd.WaitForEventAsync("listening", "pre");
        Assert.Equal(4, old.Length); // arbiter, two children, the daemon
        Assert.True(clusterd.Entries.Any(e => e.EventId == 27 && e.Message.Contains("a cgroup per worker", StringComparison.Ordinal)) || !Native.IsRoot,
            "as root on this machine each worker gets a cgroup");

        Native.Kill(old[0], Native.SIGKILL);
        var fresh = await TreeAsync(clusterd, count: 2);
        await clusterd.WaitForEventAsync("listening", "pre", count: 2);

        Assert.All(old, pid => Assert.False(Native.IsAlive(pid), $"pid {pid} of the killed worker's tree still runs"));
        var exit = Assert.Single(clusterd.Events("pre"), e => e.Event == "exit");
        Assert.Equal(("crashed", "9"), (exit.Reason, exit["Signal"]));
        var serving = await ServingPidsAsync(port, 20);
        Assert.Subset(fresh.ToHashSet(), serving);

        clusterd.Signal(Native.SIGTERM);
        Assert.Equal(0, await clusterd.WaitForExitAsync());
        Assert.All(fresh, pid => Assert.False(Native.IsAlive(pid), $"pid {pid} outlived clusterd"));
    }

    [Fact]
    public async Task Status_OfAPreForkServer_CountsTheMemoryOfItsWholeTree()
    {
        var port = Ports.Free();
        await using var clusterd = ClusterdProcess.Start(Group(port, "2"), output);
        var tree = await TreeAsync(clusterd);
        await clusterd.WaitForEventAsync("listening", "pre");
        if (!Native.IsRoot)
        {
            return; // without a cgroup of its own, a worker's figures are its main process's alone
        }

        var status = await clusterd.RequestAsync(new Clusterd.Protocol.Messages.Request { Command = "status" });

        var rss = status.Cluster!.Groups.Single().Workers.Single().RssBytes!.Value;
        var mainAlone = Native.ResidentBytes(tree[0]);
        // Four python processes of about the same size: the tree is well over twice the arbiter's own.
        Assert.True(rss > 2 * mainAlone, $"status says {rss} bytes for a tree whose main process alone has {mainAlone}");
    }

    [Fact]
    public async Task StopOfAGroup_StopsEveryProcessOfTheTree_EvenOneThatLeftTheProcessGroup()
    {
        var port = Ports.Free();
        await using var clusterd = ClusterdProcess.Start(Group(port, "1"), output);
        var tree = await TreeAsync(clusterd);
        await clusterd.WaitForEventAsync("listening", "pre");

        var stop = await clusterd.RequestAsync(new Clusterd.Protocol.Messages.Request { Command = "stop", Group = "pre" });

        Assert.True(stop.Ok, stop.Error?.Message);
        Assert.All(tree, pid => Assert.False(Native.IsAlive(pid), $"pid {pid} survived the stop"));
        Assert.Equal("stopped", Assert.Single(clusterd.Events("pre"), e => e.Event == "exit").Reason);
    }

    [Fact]
    public async Task DaemonizedDescendantExits_ClusterdItsSubreaper_ReapsIt_NoZombieStays()
    {
        await using var clusterd = ClusterdProcess.Start(Group(Ports.Free(), "2"), output);
        var daemon = (await TreeAsync(clusterd))[^1];
        await clusterd.WaitForEventAsync("listening", "pre");
        // Its double fork ended its parent: the kernel handed it to clusterd (the main thread, which is also the spawner).
        await Wait.UntilAsync(() => ParentOf(daemon) == clusterd.Pid, "the daemon to be handed to clusterd, its subreaper");

        Native.Kill(daemon, Native.SIGKILL);

        await Wait.UntilAsync(() => Native.State(daemon) is null, "clusterd to reap the daemon (a zombie would stay listed)");
        Assert.DoesNotContain(clusterd.Events("pre"), e => e.Event == "exit"); // its worker was not taken for an orphan
    }

    private static int ParentOf(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 4)..].Split(' ')[0], CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task Sigkill9OfClusterd_WhatItsWorkersStarted_IsKilledByTheNextClusterd()
    {
        Assert.False(!Native.IsRoot && Environment.GetEnvironmentVariable("CI") == "true", "CI runs as root: this test must run there");
        if (!Native.IsRoot)
        {
            return; // cgroups per worker take root here
        }
        int[] old;
        await using (var killed = ClusterdProcess.Start(Group(Ports.Free(), "2"), output))
        {
            old = await TreeAsync(killed);
            await killed.WaitForEventAsync("listening", "pre");
        } // disposing SIGKILLs clusterd: the arbiter gets its parent-death signal, its children and the daemon do not
        await Wait.UntilAsync(() => !Native.IsAlive(old[0]), "the arbiter to die with clusterd");

        // The first clusterd to start now sweeps: this one, or one of a test running beside this one (so the start log
        // of this one need not say it did), but without a sweep the arbiter's children run on until the host reboots.
        await using var next = ClusterdProcess.Start(Group(Ports.Free(), "2"), output);
        await next.WaitForEventAsync("listening", "pre");
        await Wait.UntilAsync(() => !old.Any(Native.IsAlive), "every process the killed clusterd's workers started to be gone");
    }

    [Fact]
    public async Task Kill9WithoutCgroups_TheArbitersProcessGroupGoesDownBeforeTheRestart()
    {
        Assert.False(!Native.IsRoot && Environment.GetEnvironmentVariable("CI") == "true", "CI runs as root: this test must run there");
        if (!Native.IsRoot)
        {
            return; // it runs clusterd as nobody, who may not create cgroups: that takes root to set up
        }
        var port = Ports.Free();
        var home = Directory.CreateTempSubdirectory("clusterd-nobody-").FullName;
        File.SetUnixFileMode(home, (UnixFileMode)0b111_101_101);
        Native.Chown(home, 65534, 65534);
        try
        {
            await using var clusterd = ClusterdProcess.Start($"[control]\nsocket = \"{home}/ctl.sock\"\n\n" + Group(port, "2", "--no-daemon"),
                output, environment: null, launcher: ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]);
            var old = await TreeAsync(clusterd);
            await clusterd.WaitForEventAsync("listening", "pre");
            Assert.Contains(clusterd.Entries, e => e.EventId == 27 && e.Message.Contains("process group (no cgroups", StringComparison.Ordinal));

            Native.Kill(old[0], Native.SIGKILL);
            var fresh = await TreeAsync(clusterd, count: 2);
            await clusterd.WaitForEventAsync("listening", "pre", count: 2);

            Assert.All(old, pid => Assert.False(Native.IsAlive(pid), $"pid {pid} of the killed worker's group still runs"));
            var exit = Assert.Single(clusterd.Events("pre"), e => e.Event == "exit");
            Assert.Equal(("crashed", "9"), (exit.Reason, exit["Signal"]));
            Assert.Subset(fresh.ToHashSet(), await ServingPidsAsync(port, 20));
            // Without cgroups nothing stops the arbiter's children once clusterd is SIGKILLed (disposing does that).
            Array.ForEach(fresh, pid => Native.Kill(pid, Native.SIGKILL));
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }
}
