using System.Globalization;
using System.Text.RegularExpressions;
using Clusterd.IntegrationTests.Infrastructure;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;
using Xunit.Abstractions;

namespace Clusterd.IntegrationTests.Supervision.Upgrade;

/// <summary>
/// <c>clusterctl upgrade</c> between two real builds (docs/adr/0008): clusterd re-execs in its own pid, and its
/// workers never notice: same pids, same generations, no failed request.
/// </summary>
public class UpgradeTests(SecondBuild second, ITestOutputHelper output) : IClassFixture<SecondBuild>
{
    private const int SIGKILL = 9;

    [Fact]
    public async Task Upgrade_UnderLoadToSecondBuild_KeepsEveryWorkerAndLosesNoRequest()
    {
        var port = Ports.Free();
        var metricsPort = Ports.Free();
        await using var clusterd = ClusterdProcess.Start($"[metrics]\nlisten = \"127.0.0.1:{metricsPort}\"\n\n"
            + Toml.Group("web", Toml.Worker("--say", "said before the upgrade"), 3, [$"127.0.0.1:{port}"], "reuseport"), output);
        await clusterd.WaitForEventAsync("listening", "web", count: 3);
        await clusterd.WaitForAsync(e => e.EventId == LogEntry.WorkerOutput && e["Line"] == "said before the upgrade", count: 3);
        var before = await WorkersAsync(clusterd);
        var versionBefore = (await clusterd.RequestAsync(new Request { Command = Commands.Version })).Version!;
        var eventsBefore = (await clusterd.RequestAsync(new Request { Command = Commands.Events })).Events!;
        var executableBefore = ExecutableOf(clusterd.Pid);

        (int ExitCode, string Stdout, string Stderr) upgrade;
        IReadOnlyCollection<string> failures;
        await using (var load = new Load(port))
        {
            await load.WaitForSuccessesAsync(200);
            upgrade = await Clusterctl.RunAsync(clusterd.ControlSocket, null, "upgrade", "--binary", second.Clusterd);
            await load.WaitForSuccessesAsync(load.Succeeded + 200); // served by the same workers under the new clusterd
            failures = [.. load.Failures];
        }

        output.WriteLine(upgrade.Stdout + upgrade.Stderr);
        Assert.True(upgrade.ExitCode == 0, upgrade.Stdout + upgrade.Stderr);
        Assert.Empty(failures);
        var version = (await clusterd.RequestAsync(new Request { Command = Commands.Version })).Version!;
        Assert.Equal((SecondBuild.Version, clusterd.Pid, versionBefore.StartedAt), (version.Version, version.Pid, version.StartedAt));
        Assert.NotEqual(versionBefore.Version, version.Version);
        Assert.Equal(before, await WorkersAsync(clusterd));
        Assert.Empty(DescriptorsNaming(clusterd.Pid, executableBefore, ExecutableOf(clusterd.Pid))); // the old binary, held open for a fallback, is closed
        var events = (await clusterd.RequestAsync(new Request { Command = Commands.Events })).Events!;
        Assert.Equal(eventsBefore.Select(e => (e.Seq, e.Kind, e.Pid)), events.Select(e => (e.Seq, e.Kind, e.Pid)));
        // The log book behind clusterctl logs crossed too.
        var logs = (await clusterd.RequestAsync(new Request { Command = Commands.Logs, Group = "web", Lines = 100 })).Logs!;
        Assert.Equal(before.Select(w => w.Pid).Order(), logs.Where(l => l.Text == "said before the upgrade").Select(l => l.Pid).Order());

        // The journal and the counters go on from where the old clusterd left them.
        var victim = before[0].Pid;
        Native.Kill(victim, SIGKILL);
        await clusterd.WaitForEventAsync("fork", "web", also: e => e.Pid != victim && before.All(b => b.Pid != e.Pid));
        var exit = (await clusterd.RequestAsync(new Request { Command = Commands.Events, Since = eventsBefore[^1].Seq })).Events!;
        Assert.Equal(eventsBefore[^1].Seq + 1, exit[0].Seq);
        Assert.Equal((LifecycleEventKinds.Exit, victim), (exit[0].Kind, exit[0].Pid));
        Assert.Equal(4, await CounterAsync(metricsPort, "clusterd_worker_events_total", "fork"));
    }

    [Fact]
    public async Task Upgrade_BinaryThatExitsAtStart_IsRefusedAndNothingChanges()
    {
        var port = Ports.Free();
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 2, [$"127.0.0.1:{port}"]), output);
        await clusterd.WaitForEventAsync("listening", "web", count: 2);
        var before = await WorkersAsync(clusterd);
        var versionBefore = (await clusterd.RequestAsync(new Request { Command = Commands.Version })).Version!;
        var broken = Path.Combine(clusterd.Directory, "broken-clusterd");
        await File.WriteAllTextAsync(broken, "#!/bin/sh\necho 'this build is broken' >&2\nexit 1\n");
        File.SetUnixFileMode(broken, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var upgrade = await Clusterctl.RunAsync(clusterd.ControlSocket, null, "upgrade", "--binary", broken);

        Assert.Equal(1, upgrade.ExitCode);
        Assert.Contains("--check-upgrade exited with 1: this build is broken", upgrade.Stderr, StringComparison.Ordinal);
        Assert.Contains("nothing changed", upgrade.Stderr, StringComparison.Ordinal);
        Assert.Equal(versionBefore, (await clusterd.RequestAsync(new Request { Command = Commands.Version })).Version);
        Assert.Equal(before, await WorkersAsync(clusterd));
        Assert.Equal(200, (await Http.GetAsync(port)).Status);
    }

    [Fact]
    public async Task Upgrade_ExecFails_OldClusterdGoesOnAsBefore()
    {
        var port = Ports.Free();
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 2, [$"127.0.0.1:{port}"]), output);
        await clusterd.WaitForEventAsync("listening", "web", count: 2);
        var before = await WorkersAsync(clusterd);
        // It passes its check, and is gone by the exec: execve fails with ENOENT after the state was taken.
        var vanishing = Path.Combine(clusterd.Directory, "vanishing-clusterd");
        await File.WriteAllTextAsync(vanishing, "#!/bin/sh\nrm -f \"$0\"\necho 9.9.9\n");
        File.SetUnixFileMode(vanishing, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var upgrade = await Clusterctl.RunAsync(clusterd.ControlSocket, null, "upgrade", "--binary", vanishing);

        Assert.Equal(1, upgrade.ExitCode);
        Assert.Contains("the upgrade failed and nothing changed: execve", upgrade.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, await WorkersAsync(clusterd)); // and the control socket accepts again
        // Its notify socket is read again: a replacement's READY=1 makes it ready.
        Native.Kill(before[1].Pid, SIGKILL);
        await clusterd.WaitForEventAsync("listening", "web", count: 3);
        Assert.Equal(200, (await Http.GetAsync(port)).Status);
    }

    [Fact]
    public async Task Upgrade_Sigusr2_ReexecsItsOwnBinaryKeepingTheWorkers()
    {
        const int SIGUSR2 = 12;
        var port = Ports.Free();
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 2, [$"127.0.0.1:{port}"]), output);
        await clusterd.WaitForEventAsync("listening", "web", count: 2);
        var before = await WorkersAsync(clusterd);

        clusterd.Signal(SIGUSR2);

        await clusterd.WaitForAsync(e => e.EventId == 62, what: "the new image's 'upgraded in place'");
        Assert.Equal(before, await WorkersAsync(clusterd));
        Assert.Equal(clusterd.Pid, (await clusterd.RequestAsync(new Request { Command = Commands.Version })).Version!.Pid);
        Assert.Equal(200, (await Http.GetAsync(port)).Status);
    }

    [Fact]
    public async Task Upgrade_WorkerInBackoffAndWorkerStarting_BothGoOnAfterIt()
    {
        // "crashy" dies 100 ms after each start and then backs off 10 s; "slow" never says READY=1, and ready_timeout
        // (20 s, armed before the upgrade) ends it: both timers must cross the exec as deadlines.
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("crashy", Toml.Worker("--crash-after", "100"), 1, [$"127.0.0.1:{Ports.Free()}"], "reuseport", "notify",
                "backoff = { initial = \"10s\", max = \"10s\", factor = 1.0 }", "max_restarts = 100")
            + Toml.Group("slow", Toml.Worker("--no-ready"), 1, [$"127.0.0.1:{Ports.Free()}"], "reuseport", "notify",
                "ready_timeout = \"20s\""),
            output);
        await clusterd.WaitForEventAsync("backoff", "crashy");
        var starting = (await clusterd.WaitForEventAsync("online", "slow"))[0].Pid;

        var upgrade = await Clusterctl.RunAsync(clusterd.ControlSocket, null, "upgrade", "--binary", second.Clusterd);

        Assert.True(upgrade.ExitCode == 0, upgrade.Stdout + upgrade.Stderr);
        await clusterd.WaitForAsync(e => e.EventId == 62, what: "the new image's 'upgraded in place'");
        var workers = (await clusterd.RequestAsync(new Request { Command = Commands.Status })).Cluster!.Groups
            .ToDictionary(g => g.Name, g => g.Workers[0]);
        Assert.Equal((starting, PublicWorkerState.Starting), (workers["slow"].Pid, workers["slow"].State));
        Assert.Equal(PublicWorkerState.Backoff, workers["crashy"].State);
        // Each timer fires under the new image: the backoff ends in a restart, ready_timeout stops the slow one.
        await clusterd.WaitForEventAsync("restart", "crashy", timeout: TimeSpan.FromSeconds(60));
        await clusterd.WaitForEventAsync("fork", "crashy", count: 2, timeout: TimeSpan.FromSeconds(60));
        var timedOut = await clusterd.WaitForEventAsync("exit", "slow", also: e => e.Pid == starting, timeout: TimeSpan.FromSeconds(60));
        Assert.Equal(ExitReasons.ReadyTimeout, timedOut[0].Reason); // after the upgrade: status showed it starting then
    }

    [Fact]
    public async Task Upgrade_NewBinaryRefusesTheRunningArguments_OldBinaryTakesItsStateBackAndLosesNoRequest()
    {
        var port = Ports.Free();
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 3, [$"127.0.0.1:{port}"], "reuseport"), output);
        await clusterd.WaitForEventAsync("listening", "web", count: 3);
        var before = await WorkersAsync(clusterd);
        var versionBefore = (await clusterd.RequestAsync(new Request { Command = Commands.Version })).Version!;
        // A new build that no longer takes a flag the running clusterd was started with: its check, which runs it with
        // --check-upgrade and --config only, passes; after the exec, the real second build refuses its arguments.
        var executableBefore = ExecutableOf(clusterd.Pid);
        var newer = Wrapper(clusterd.Directory, "clusterd-without-a-flag", check: second.Clusterd,
            run: $"'{second.Clusterd}' \"$@\" --flag-this-build-dropped");

        (int ExitCode, string Stdout, string Stderr) upgrade;
        IReadOnlyCollection<string> failures;
        await using (var load = new Load(port))
        {
            await load.WaitForSuccessesAsync(200);
            upgrade = await Clusterctl.RunAsync(clusterd.ControlSocket, null, "upgrade", "--binary", newer);
            await clusterd.WaitForAsync(e => e.EventId == 65, what: "the old image's 'took its state back'");
            await load.WaitForSuccessesAsync(load.Succeeded + 200); // served by the same workers under the old clusterd
            failures = [.. load.Failures];
        }

        output.WriteLine(upgrade.Stdout + upgrade.Stderr);
        Assert.Equal(1, upgrade.ExitCode);
        Assert.Contains("upgrading to " + SecondBuild.Version, upgrade.Stdout, StringComparison.Ordinal); // it got past its check
        Assert.Contains($"could not take over: clusterd {versionBefore.Version} took its state back and runs on", upgrade.Stderr, StringComparison.Ordinal);
        Assert.Contains("--flag-this-build-dropped", upgrade.Stderr, StringComparison.Ordinal); // the new image's own reason
        Assert.Empty(failures);
        var version = (await clusterd.RequestAsync(new Request { Command = Commands.Version })).Version!;
        Assert.Equal((versionBefore.Version, clusterd.Pid, versionBefore.StartedAt), (version.Version, version.Pid, version.StartedAt));
        Assert.Contains("--flag-this-build-dropped", version.UpgradeFailure, StringComparison.Ordinal);
        Assert.Equal(before, await WorkersAsync(clusterd));
        Assert.Empty(DescriptorsNaming(clusterd.Pid, executableBefore)); // it came back through the held descriptor, and closed it
    }

    [Fact]
    public async Task Upgrade_NewBinaryFailsWhileTakingOver_OldBinaryTakesItsStateBackKeepingEveryWorker()
    {
        var port = Ports.Free();
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 2, [$"127.0.0.1:{port}"], "reuseport", "notify"), output);
        await clusterd.WaitForEventAsync("listening", "web", count: 2);
        var before = await WorkersAsync(clusterd);
        var versionBefore = (await clusterd.RequestAsync(new Request { Command = Commands.Version })).Version!;
        // The new build starts, reads the state and parses the config, and its host fails to start: its clusterd-exec
        // (there at its check) is gone by the exec, so it cannot build its launcher.
        var broken = Path.Combine(clusterd.Directory, "second-build-without-helper");
        await CopyDirectoryAsync(Path.GetDirectoryName(second.Clusterd)!, broken);
        File.Delete(Path.Combine(broken, "clusterd-exec"));
        var newer = Wrapper(clusterd.Directory, "clusterd-losing-its-helper", check: second.Clusterd,
            run: $"'{Path.Combine(broken, "clusterd")}' \"$@\"");

        var upgrade = await Clusterctl.RunAsync(clusterd.ControlSocket, null, "upgrade", "--binary", newer);

        output.WriteLine(upgrade.Stdout + upgrade.Stderr);
        Assert.Equal(1, upgrade.ExitCode);
        Assert.Contains("clusterd-exec is missing", upgrade.Stderr, StringComparison.Ordinal);
        await clusterd.WaitForAsync(e => e.EventId == 65, what: "the old image's 'took its state back'");
        var version = (await clusterd.RequestAsync(new Request { Command = Commands.Version })).Version!;
        Assert.Equal((versionBefore.Version, clusterd.Pid), (version.Version, version.Pid));
        Assert.Equal(before, await WorkersAsync(clusterd));
        // Everything works as before: the notify socket is read, a killed worker's replacement becomes ready and serves.
        Native.Kill(before[1].Pid, SIGKILL);
        await clusterd.WaitForEventAsync("listening", "web", count: 3);
        Assert.Equal(200, (await Http.GetAsync(port)).Status);
    }

    [RequiresPublishedBuild]
    public async Task Upgrade_NewBinaryRenamedOverTheRunningOneFailsItsTakeover_RunningImageTakesItsStateBackAndLosesNoRequest()
    {
        Assert.Null(PublishedBuild.Problem);
        // clusterd as a package installs it: one NativeAOT file next to its clusterd-exec, run from its path.
        var install = Path.Combine(Path.GetTempPath(), "clusterd-install-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(install);
        try
        {
            var installed = Path.Combine(install, "clusterd");
            File.Copy(PublishedBuild.Clusterd, installed);
            File.Copy(PublishedBuild.ExecHelper, Path.Combine(install, "clusterd-exec"));
            var port = Ports.Free();
            // The launcher runs the installed file in place of the build's: same pid (exec), same arguments.
            await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 3, [$"127.0.0.1:{port}"], "reuseport"), output,
                environment: null, launcher: ["/bin/sh", "-c", $"shift; exec '{installed}' \"$@\"", "sh"]);
            await clusterd.WaitForEventAsync("listening", "web", count: 3);
            var before = await WorkersAsync(clusterd);
            var versionBefore = (await clusterd.RequestAsync(new Request { Command = Commands.Version })).Version!;
            // What dpkg does: the new file is written next to the old one and renamed over it. The new version passes
            // its check and then refuses the arguments the running clusterd was started with (as above).
            var executableBefore = ExecutableOf(clusterd.Pid);
            var newer = Wrapper(install, "clusterd.dpkg-new", check: second.Clusterd, run: $"'{second.Clusterd}' \"$@\" --flag-this-build-dropped");
            File.Move(newer, installed, overwrite: true);

            (int ExitCode, string Stdout, string Stderr) upgrade;
            IReadOnlyCollection<string> failures;
            await using (var load = new Load(port))
            {
                await load.WaitForSuccessesAsync(200);
                upgrade = await Clusterctl.RunAsync(clusterd.ControlSocket, null, "upgrade"); // its own path, as on disk now
                await clusterd.WaitForAsync(e => e.EventId == 65, what: "the old image's 'took its state back'");
                await load.WaitForSuccessesAsync(load.Succeeded + 200);
                failures = [.. load.Failures];
            }

            output.WriteLine(upgrade.Stdout + upgrade.Stderr);
            Assert.Equal(1, upgrade.ExitCode);
            Assert.Contains("upgrading to " + SecondBuild.Version, upgrade.Stdout, StringComparison.Ordinal);
            Assert.Contains($"could not take over: clusterd {versionBefore.Version} took its state back and runs on", upgrade.Stderr, StringComparison.Ordinal);
            Assert.Empty(failures);
            var version = (await clusterd.RequestAsync(new Request { Command = Commands.Version })).Version!;
            Assert.Equal((versionBefore.Version, clusterd.Pid, versionBefore.StartedAt), (version.Version, version.Pid, version.StartedAt));
            Assert.Contains("--flag-this-build-dropped", version.UpgradeFailure, StringComparison.Ordinal);
            Assert.Equal(before, await WorkersAsync(clusterd));
            Assert.Equal(executableBefore + " (deleted)", new FileInfo($"/proc/{clusterd.Pid}/exe").LinkTarget); // the file it ran before, renamed over
            Assert.Empty(DescriptorsNaming(clusterd.Pid, executableBefore)); // held open for the fallback, and closed again
            // It still finds its clusterd-exec (next to the path it was installed as): a killed worker is replaced.
            Native.Kill(before[1].Pid, SIGKILL);
            await clusterd.WaitForEventAsync("listening", "web", count: 4);
            Assert.Equal(200, (await Http.GetAsync(port)).Status);
        }
        finally
        {
            Directory.Delete(install, recursive: true);
        }
    }

    [Fact]
    public async Task Upgrade_GroupsWithHealthCheckAndMaxLifetime_CarryThemOnUnderTheNewBinary()
    {
        var port = Ports.Free();
        var sick = Path.Combine(Path.GetTempPath(), "clusterd-sick-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            // "web" is probed over HTTP on its own health socket every 200 ms; "aging" ends at max_lifetime (20 s, plus up
            // to 10% of jitter), armed before the upgrade: both must go on under the new image.
            await using var clusterd = ClusterdProcess.Start(
                Toml.Group("web", Toml.Worker("--unhealthy-if-file", sick), 1, [$"127.0.0.1:{port}"], "reuseport", "notify",
                    "[groups.web.health]\nhttp = \"/healthz\"\ninterval = \"200ms\"\ntimeout = \"150ms\"\nfailures = 2")
                + Toml.Group("aging", Toml.Worker(), 1, [$"127.0.0.1:{Ports.Free()}"], "reuseport", "notify", "max_lifetime = \"20s\""),
                output);
            await clusterd.WaitForEventAsync("listening", "web");
            var aging = (await clusterd.WaitForEventAsync("listening", "aging"))[0].Pid;
            await Wait.UntilAsync(async () => (await WorkerAsync(clusterd, "web")).Health == "pass", "web's first passed check");
            var web = (await WorkerAsync(clusterd, "web")).Pid;

            (int ExitCode, string Stdout, string Stderr) upgrade;
            IReadOnlyCollection<string> failures;
            await using (var load = new Load(port))
            {
                await load.WaitForSuccessesAsync(100);
                upgrade = await Clusterctl.RunAsync(clusterd.ControlSocket, null, "upgrade", "--binary", second.Clusterd);
                await load.WaitForSuccessesAsync(load.Succeeded + 100);
                failures = [.. load.Failures];
            }

            Assert.True(upgrade.ExitCode == 0, upgrade.Stdout + upgrade.Stderr);
            Assert.Empty(failures);
            var after = await WorkerAsync(clusterd, "web");
            Assert.Equal((web, "pass"), (after.Pid, after.Health)); // the last check's result crossed with it
            Assert.Equal(aging, (await WorkerAsync(clusterd, "aging")).Pid); // not recycled yet: its lifetime ends under the new image
            // The check goes on under the new image, on the socket it took over: the worker turns unhealthy and is replaced.
            await File.WriteAllTextAsync(sick, "");
            await clusterd.WaitForEventAsync("exit", "web", also: e => e.Pid == web && e.Reason == ExitReasons.Unhealthy, timeout: TimeSpan.FromSeconds(60));
            File.Delete(sick);
            // And max_lifetime's deadline: the aging worker is replaced when its lifetime is up.
            await clusterd.WaitForEventAsync("exit", "aging", also: e => e.Pid == aging && e.Reason == ExitReasons.MaxLifetime, timeout: TimeSpan.FromSeconds(60));
        }
        finally
        {
            File.Delete(sick);
        }
    }

    [Fact]
    public async Task Upgrade_CommandCheckHangingAtTheExec_IsKilledByTheNewBinary()
    {
        // The check records its pid and hangs (timeout 60 s, next one in 120 s): it is running when the exec comes, and
        // only the image that started it would have ended it at its timeout.
        var pids = Path.Combine(Path.GetTempPath(), "clusterd-check-pids-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            await using var clusterd = ClusterdProcess.Start(
                Toml.Group("web", Toml.Worker(), 1, [$"127.0.0.1:{Ports.Free()}"], "reuseport", "notify",
                    $"[groups.web.health]\ncommand = {ClusterdProcess.Command("/bin/sh", "-c", $"echo $$ >> {pids}; exec sleep 1000")}\n"
                    + "interval = \"120s\"\ntimeout = \"60s\"\nfailures = 1"),
                output);
            await Wait.UntilAsync(() => File.Exists(pids) && File.ReadAllLines(pids).Length == 1, "the check running");
            var hanging = int.Parse(File.ReadAllLines(pids)[0], CultureInfo.InvariantCulture);

            var upgrade = await Clusterctl.RunAsync(clusterd.ControlSocket, null, "upgrade", "--binary", second.Clusterd);

            Assert.True(upgrade.ExitCode == 0, upgrade.Stdout + upgrade.Stderr);
            await Wait.UntilAsync(() => !Native.IsAlive(hanging), "the abandoned check killed");
            // The new image checks at once (the next check was due when the old one started its own): a check of its own runs.
            await Wait.UntilAsync(() => File.ReadAllLines(pids).Length == 2, "the new image's first check");
        }
        finally
        {
            File.Delete(pids);
        }
    }

    /// <summary>The file process <paramref name="pid"/> runs, as the kernel names it (what a descriptor on it shows too).</summary>
    private static string ExecutableOf(int pid) => Undeleted(new FileInfo($"/proc/{pid}/exe").LinkTarget!);

    /// <summary>
    /// The descriptors of process <paramref name="pid"/> open on one of <paramref name="executables"/> (<see cref="ExecutableOf"/>),
    /// even once deleted: none after an upgrade, whose old binary is held open only until the takeover is complete.
    /// </summary>
    private static IReadOnlyList<string> DescriptorsNaming(int pid, params string[] executables) =>
        [.. Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd").Select(fd => Undeleted(new FileInfo(fd).LinkTarget ?? "")).Where(executables.Contains)];

    private static string Undeleted(string target) => target.EndsWith(" (deleted)", StringComparison.Ordinal) ? target[..^" (deleted)".Length] : target;

    private static async Task<WorkerStatus> WorkerAsync(ClusterdProcess clusterd, string group) =>
        (await clusterd.RequestAsync(new Request { Command = Commands.Status })).Cluster!.Groups.Single(g => g.Name == group).Workers[0];

    /// <summary>
    /// A script standing for a new binary: <c>--check-upgrade</c> goes to <paramref name="check"/>, the exec of the
    /// upgrade to <paramref name="run"/> (a shell command line), in the same process: the exec keeps every descriptor.
    /// </summary>
    private static string Wrapper(string directory, string name, string check, string run)
    {
        var path = Path.Combine(directory, name);
        File.WriteAllText(path, $"#!/bin/sh\nif [ \"$1\" = --check-upgrade ]; then exec '{check}' \"$@\"; fi\nexec {run}\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private static async Task CopyDirectoryAsync(string from, string to)
    {
        using var copy = System.Diagnostics.Process.Start("cp", ["-a", from, to]);
        await copy.WaitForExitAsync();
        Assert.Equal(0, copy.ExitCode);
    }

    private static async Task<IReadOnlyList<(int Slot, int Pid, int Generation, PublicWorkerState State)>> WorkersAsync(ClusterdProcess clusterd) =>
        [.. (await clusterd.RequestAsync(new Request { Command = Commands.Status })).Cluster!.Groups[0].Workers
            .Select(w => (w.Slot, w.Pid, w.Generation, w.State))];

    /// <summary>A counter of the Prometheus endpoint, by its <c>event</c> label.</summary>
    private static async Task<long> CounterAsync(int port, string name, string @event)
    {
        using var client = new HttpClient();
        var body = await client.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
        var match = Regex.Match(body, $"^{name}\\{{[^}}]*event=\"{@event}\"[^}}]*\\}} (\\d+)", RegexOptions.Multiline);
        Assert.True(match.Success, $"{name}{{event=\"{@event}\"}} is not in:\n{body}");
        return long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }
}
