using System.Globalization;
using Clusterd.IntegrationTests.Infrastructure;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;
using Xunit.Abstractions;

namespace Clusterd.IntegrationTests.Supervision;

/// <summary>Worker health at runtime (docs/config.md, "Worker health"), with real workers on loopback.</summary>
public class HealthTests(ITestOutputHelper output)
{
    private const string HealthSocket = "clusterd-health";

    /// <summary>An HTTP check of /healthz every 200ms: tests see a worker's health change within a second.</summary>
    private static string HttpCheck(int failures = 2) =>
        $"[groups.web.health]\nhttp = \"/healthz\"\ninterval = \"200ms\"\ntimeout = \"150ms\"\nfailures = {failures}";

    /// <summary>Testworker's /healthz log lines: (the pid the line says, the pid clusterd captured it from, the listener, the status).</summary>
    private static IEnumerable<(int Says, int From, string Listener, int Status)> Probes(ClusterdProcess clusterd) =>
        clusterd.Entries.Where(e => e.EventId == LogEntry.WorkerOutput && e["Line"]!.Contains(" healthz on ", StringComparison.Ordinal))
            .Select(e =>
            {
                // "testworker pid=812 healthz on clusterd-health: 200"
                var words = e["Line"]!.Split(' ');
                return (int.Parse(words[1]["pid=".Length..], CultureInfo.InvariantCulture), e.Pid, words[4].TrimEnd(':'),
                    int.Parse(words[5], CultureInfo.InvariantCulture));
            });

    private static async Task<string[]> UnderLoadUntilAsync(int port, Func<Task> until)
    {
        await using var load = new Load(port);
        await load.WaitForSuccessesAsync(50);
        await until();
        await load.WaitForSuccessesAsync(load.Succeeded + 50); // the replacement serves too
        return [.. load.Failures];
    }

    [Fact]
    public async Task MaxMemory_LeakingWorker_IsReplacedWithReasonMemoryLimit_WithZeroFailedRequests()
    {
        var port = Ports.Free();
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker("--allocate-mib-per-second", "8"), 2, [$"127.0.0.1:{port}"], "reuseport", "notify", "max_memory = \"64MiB\""), output);
        var first = await clusterd.WaitForEventAsync("listening", "web", count: 2);

        var failures = await UnderLoadUntilAsync(port, () => clusterd.WaitForEventAsync("exit", "web", also: e => e.Reason == ExitReasons.MemoryLimit));

        Assert.Empty(failures);
        var exit = clusterd.Events("web").First(e => e.Event == "exit" && e.Reason == ExitReasons.MemoryLimit);
        Assert.Contains(first, e => e.Pid == exit.Pid);
        Assert.Contains(clusterd.Entries, e => e.Message.Contains("above max_memory (64 MiB) for 3 samples in a row", StringComparison.Ordinal));
        Assert.DoesNotContain(clusterd.Events("web"), e => e.Event == "exit" && e.Reason is ExitReasons.Crashed or ExitReasons.Killed);
    }

    [Fact]
    public async Task HealthCheck_WorkerStartsAnswering500_IsReplacedAsUnhealthy_WithZeroFailedRequests()
    {
        var port = Ports.Free();
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker("--serve-500-after", "1500"), 2, [$"127.0.0.1:{port}"], "reuseport", "notify", HttpCheck()), output);
        await clusterd.WaitForEventAsync("listening", "web", count: 2);

        var failures = await UnderLoadUntilAsync(port, () => clusterd.WaitForEventAsync("exit", "web", also: e => e.Reason == ExitReasons.Unhealthy));

        Assert.Empty(failures);
        var exit = clusterd.Events("web").First(e => e.Event == "exit" && e.Reason == ExitReasons.Unhealthy);
        Assert.Contains(Probes(clusterd), p => p.From == exit.Pid && p.Status == 500);
        // status carries each worker's last check; a replacement that has just started has none yet, so wait for one.
        await Wait.UntilAsync(async () =>
            (await clusterd.RequestAsync(new Request { Command = Commands.Status })).Cluster!.Groups[0].Workers
                .Any(w => w.Health is "pass" or "fail" && w.HealthLatencySeconds is >= 0),
            "a worker whose status shows its last check and its latency");
    }

    [Fact]
    public async Task ReadyHealth_WorkerThatNeverNotifies_BecomesReadyOnlyOnceItsCheckPasses()
    {
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker("--no-ready", "--health-after", "3000"), 1, [$"127.0.0.1:{Ports.Free()}"], "reuseport", "health", HttpCheck()),
            output);

        // While /healthz says 503 the worker is checked and not ready; nothing else (no READY=1) can make it ready.
        await Wait.UntilAsync(async () =>
        {
            var w = (await clusterd.RequestAsync(new Request { Command = Commands.Status })).Cluster!.Groups[0].Workers[0];
            return w is { State: PublicWorkerState.Starting, Health: "fail" };
        }, "a starting worker whose check fails");
        var ready = (await clusterd.WaitForEventAsync("listening", "web"))[0];

        // status answers from the snapshot the loop publishes after the turn that logged "listening": wait for it.
        WorkerStatus worker = null!;
        await Wait.UntilAsync(async () =>
        {
            worker = (await clusterd.RequestAsync(new Request { Command = Commands.Status })).Cluster!.Groups[0].Workers[0];
            return worker.State == PublicWorkerState.Ready;
        }, "status to show the worker ready");
        Assert.Equal((ready.Pid, PublicWorkerState.Ready, "pass"), (worker.Pid, worker.State, worker.Health));
        Assert.NotNull(worker.HealthLatencySeconds);
        Assert.Contains(Probes(clusterd), p => p.From == ready.Pid && p.Status == 503);
    }

    [Fact]
    public async Task HealthCheck_EachWorker_IsProbedOnItsOwnSocket()
    {
        var port = Ports.Free();
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker(), 2, [$"127.0.0.1:{port}"], "reuseport", "notify", HttpCheck()), output);
        var workers = (await clusterd.WaitForEventAsync("listening", "web", count: 2)).Select(e => e.Pid).ToArray();

        await clusterd.WaitForAsync(e => e.EventId == LogEntry.WorkerOutput && e["Line"]!.Contains(" healthz on ", StringComparison.Ordinal)
            && e.Pid == workers[1], what: "a probe of the second worker");
        await clusterd.WaitForAsync(e => e.EventId == LogEntry.WorkerOutput && e["Line"]!.Contains(" healthz on ", StringComparison.Ordinal)
            && e.Pid == workers[0], what: "a probe of the first worker");

        Assert.All(Probes(clusterd), p => Assert.Equal((p.From, HealthSocket), (p.Says, p.Listener)));
        var env = await Http.GetJsonAsync(port, "/env");
        Assert.Equal("2", env.GetProperty("LISTEN_FDS").GetString());
        Assert.Equal($"web:{HealthSocket}", env.GetProperty("LISTEN_FDNAMES").GetString());
    }

    /// <summary>
    /// A command check. By default it has 10s, which no shell needs even on a loaded machine: only a check that hangs
    /// on purpose meets its timeout. One failure makes a ready worker unhealthy.
    /// </summary>
    private static string CommandCheck(string script, string timeout = "10s", string interval = "11s", int failures = 1) =>
        $"[groups.web.health]\ncommand = {ClusterdProcess.Command("/bin/sh", "-c", script)}\ninterval = \"{interval}\"\ntimeout = \"{timeout}\"\nfailures = {failures}";

    /// <summary>Whether a process whose argv holds <paramref name="marker"/> as a whole argument is alive (not a zombie).</summary>
    private static bool Running(string marker) =>
        System.IO.Directory.EnumerateDirectories("/proc").Any(dir =>
        {
            try
            {
                return int.TryParse(Path.GetFileName(dir), out var pid) && Native.IsAlive(pid)
                    && File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0').Contains(marker);
            }
            catch (IOException)
            {
                return false; // gone meanwhile
            }
        });

    [Fact]
    public async Task CommandCheck_ExitsZero_MakesAReadyHealthWorkerReady_WithTheWorkersIdentityInItsEnvironment()
    {
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker("--no-ready"), 1, [$"127.0.0.1:{Ports.Free()}"], "reuseport", "health",
                CommandCheck("echo \"$CLUSTERD_WORKER_PID $CLUSTERD_GROUP $CLUSTERD_WORKER\" > env.tmp && mv env.tmp env")), output);

        var ready = (await clusterd.WaitForEventAsync("listening", "web"))[0];

        Assert.Equal($"{ready.Pid} web 0", File.ReadAllText(Path.Combine(clusterd.Directory, "env")).Trim());
        Assert.DoesNotContain(clusterd.Entries, e => e.Message.Contains("not run by this clusterd", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CommandCheck_StartsFailing_WorkerIsReplacedAsUnhealthy_WithZeroFailedRequests_AndItsOutputInTheReason()
    {
        var port = Ports.Free();
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker(), 2, [$"127.0.0.1:{port}"], "reuseport", "notify",
                CommandCheck("if [ -e sick-$CLUSTERD_WORKER_PID ]; then echo \"sick: $CLUSTERD_WORKER_PID\"; exit 3; fi")), output);
        var sick = (await clusterd.WaitForEventAsync("listening", "web", count: 2))[0].Pid;

        var failures = await UnderLoadUntilAsync(port, async () =>
        {
            await File.WriteAllTextAsync(Path.Combine(clusterd.Directory, $"sick-{sick}"), "");
            await clusterd.WaitForEventAsync("exit", "web", also: e => e.Reason == ExitReasons.Unhealthy);
        });

        Assert.Empty(failures);
        Assert.Equal(sick, clusterd.Events("web").Single(e => e.Event == "exit" && e.Reason == ExitReasons.Unhealthy).Pid);
        Assert.Contains(clusterd.Entries, e => e.Message.Contains($"(pid {sick}) is unhealthy", StringComparison.Ordinal)
            && e.Message.Contains($"exit code 3; output: sick: {sick}", StringComparison.Ordinal));
        Assert.DoesNotContain(clusterd.Entries, e => e.EventId == LogEntry.WorkerOutput && e["Line"]!.Contains("sick:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CommandCheck_ThatHangs_IsKilledAtItsTimeout_AsAFailure_LeavingNoProcess()
    {
        // One run of the check hangs, once the test says so (it takes the file); its child sleeps for a number of
        // seconds unique to the worker, which marks it.
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker(), 1, [$"127.0.0.1:{Ports.Free()}"], "reuseport", "notify",
                CommandCheck("if mv hang hanging 2>/dev/null; then echo waiting; sleep 1$CLUSTERD_WORKER_PID & wait; fi", timeout: "3s", interval: "4s")),
            output);
        var pid = (await clusterd.WaitForEventAsync("listening", "web"))[0].Pid;
        await File.WriteAllTextAsync(Path.Combine(clusterd.Directory, "hang"), "");
        await Wait.UntilAsync(() => Running($"1{pid}"), "the hanging check");

        await clusterd.WaitForAsync(e => e.Message.Contains($"(pid {pid}) is unhealthy", StringComparison.Ordinal), what: "the check's failure");

        Assert.Contains(clusterd.Entries, e => e.Message.Contains($"(pid {pid}) is unhealthy", StringComparison.Ordinal)
            && e.Message.Contains("no exit within 3s; killed; output: waiting", StringComparison.Ordinal));
        Assert.False(Running($"1{pid}"), "a process of the killed check is left"); // the result comes only once its tree is gone
    }

    [Theory]
    [InlineData(Native.SIGTERM)]
    [InlineData(Native.SIGKILL)]
    public async Task CommandCheck_RunningWhenClusterdEnds_DoesNotOutliveIt(int signal)
    {
        // A stop kills the check's whole tree; a SIGKILLed clusterd takes the check's main process (the parent-death
        // signal), so here the check execs sleep and starts nothing else.
        var marker = $"9{Random.Shared.Next(100_000, 999_999)}";
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker(), 1, [$"127.0.0.1:{Ports.Free()}"], "reuseport", "notify",
                CommandCheck($"exec sleep {marker}", timeout: "60s", interval: "120s")), output);
        await Wait.UntilAsync(() => Running(marker), "the running check");

        clusterd.Signal(signal);
        await clusterd.WaitForExitAsync();

        await Wait.UntilAsync(() => !Running(marker), "the check to end with clusterd");
    }

    [Fact]
    public async Task CommandCheck_OfAGroupWithAUser_RunsAsThatUser()
    {
        if (!Native.IsRoot)
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", "CI runs as root; this test must not be skipped there");
            return;
        }
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", ["/bin/sh", "-c", "exec sleep 1000"], 1, [], "reuseport", "health", "user = \"nobody\"",
                CommandCheck("echo uid=$(id -u) gid=$(id -g); exit 1")), output);

        WorkerStatus worker = null!;
        await Wait.UntilAsync(async () =>
        {
            worker = (await clusterd.RequestAsync(new Request { Command = Commands.Status })).Cluster!.Groups[0].Workers[0];
            return worker.HealthFailure is not null;
        }, "a failed check in status");

        Assert.Equal(("fail", "exit code 1; output: uid=65534 gid=65534"), (worker.Health, worker.HealthFailure));
    }

    [Fact]
    public async Task MaxLifetime_RecyclesEveryWorker_NeverMoreThanOneAtATime_AndNeverBelowTheDesiredCount()
    {
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker(), 3, [$"127.0.0.1:{Ports.Free()}"], "reuseport", "notify", "max_lifetime = \"2s\""), output);
        var first = await clusterd.WaitForEventAsync("listening", "web", count: 3);

        await clusterd.WaitForEventAsync("exit", "web", count: 3, also: e => e.Reason == ExitReasons.MaxLifetime && first.Any(f => f.Pid == e.Pid));

        // Replay the events: a replacement forks, becomes ready, then the old worker disconnects (drains) and exits.
        // From the moment all three serve: the count never drops, and at most one replacement starts at a time.
        var (serving, starting, allUp) = (0, 0, false);
        var (fewestServing, mostStarting) = (int.MaxValue, 0);
        foreach (var e in clusterd.Events("web"))
        {
            (serving, starting) = e.Event switch
            {
                "fork" => (serving, starting + 1),
                "listening" => (serving + 1, starting - 1),
                "disconnect" => (serving - 1, starting),
                _ => (serving, starting),
            };
            allUp |= serving == 3;
            if (allUp)
            {
                (fewestServing, mostStarting) = (Math.Min(fewestServing, serving), Math.Max(mostStarting, starting));
            }
        }
        Assert.Equal(3, fewestServing); // max_unavailable 0: a worker goes only once its replacement is ready
        Assert.Equal(1, mostStarting); // max_surge 1
        Assert.Contains(clusterd.Entries, e => e.Message.Contains("reached max_lifetime", StringComparison.Ordinal));
    }

    [Fact]
    public async Task MemoryMax_WithoutTheMemoryController_FailsTheSlotSayingWhy()
    {
        if (File.Exists("/sys/fs/cgroup/cgroup.subtree_control")
            && File.ReadAllText("/sys/fs/cgroup/cgroup.subtree_control").Contains("memory", StringComparison.Ordinal))
        {
            return; // this host can apply it; CgroupMemoryTests cover the refusal
        }
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker(), 1, [], "reuseport", "notify", "memory_max = \"256MiB\""), output);

        var failed = (await clusterd.WaitForEventAsync("failed", "web"))[0];

        Assert.Contains("memory_max cannot be applied", failed.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(clusterd.Events("web"), e => e.Event == "fork");
    }
}
