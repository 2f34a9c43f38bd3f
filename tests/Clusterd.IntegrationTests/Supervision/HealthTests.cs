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
