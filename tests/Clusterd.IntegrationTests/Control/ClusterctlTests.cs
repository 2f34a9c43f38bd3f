using Clusterd.IntegrationTests.Infrastructure;
using Clusterd.IntegrationTests.Readiness;
using Xunit.Abstractions;

namespace Clusterd.IntegrationTests.Control;

/// <summary>The clusterctl binary against a real clusterd: exit codes, output, and access by peer credentials.</summary>
public class ClusterctlTests(ITestOutputHelper output)
{
    private static void RequireRoot()
    {
        Assert.False(!Native.IsRoot && Environment.GetEnvironmentVariable("CI") == "true", "CI runs as root; permission tests must not be skipped there");
    }

    [Fact]
    public async Task StatusRestartEvents_EndToEnd()
    {
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 2, []), output);
        await clusterd.WaitForEventAsync("listening", "web", count: 2);
        await (await clusterd.ConnectAsync()).DisposeAsync();

        var status = await Clusterctl.RunAsync(clusterd.ControlSocket, null, "status");
        var json = await Clusterctl.RunAsync(clusterd.ControlSocket, null, "status", "--json");
        var restart = await Clusterctl.RunAsync(clusterd.ControlSocket, null, "restart", "web");
        var events = await Clusterctl.RunAsync(clusterd.ControlSocket, null, "events", "--json");
        var missing = await Clusterctl.RunAsync(clusterd.ControlSocket, null, "scale", "nope", "2");

        Assert.Equal(0, status.ExitCode);
        Assert.Matches(@"^web\s+running\s+2/2 ready", status.Stdout);
        Assert.Equal(0, json.ExitCode);
        var groups = System.Text.Json.JsonDocument.Parse(json.Stdout).RootElement.GetProperty("groups");
        Assert.Equal(2, groups[0].GetProperty("workers").GetArrayLength());
        Assert.True(restart.ExitCode == 0, restart.Stderr);
        Assert.Equal(16, events.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length); // 2 × (fork, online, listening) twice, 2 × (disconnect, exit)
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("no group 'nope'", missing.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoDaemon_ExitsWithSystemErrorNamingTheSocket()
    {
        var path = Path.Combine(Path.GetTempPath(), $"clusterd-absent-{Guid.NewGuid():N}.sock");

        var (code, _, stderr) = await Clusterctl.RunAsync(path, null, "status");

        Assert.Equal(111, code);
        Assert.Contains(path, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reload_BrokenConfig_PrintsErrorsAndExitsOne()
    {
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 1, []), output);
        await clusterd.WaitForEventAsync("listening", "web");
        await File.AppendAllTextAsync(clusterd.ConfigPath, "wokers = 3\n");

        var (code, _, stderr) = await Clusterctl.RunAsync(clusterd.ControlSocket, null, "reload");

        Assert.Equal(1, code);
        Assert.Contains($"{clusterd.ConfigPath}:", stderr, StringComparison.Ordinal);
        Assert.Contains("did you mean 'workers'", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AsNobody_WithoutAnyGroup_IsDeniedEvenStatus()
    {
        RequireRoot();
        if (!Native.IsRoot)
        {
            return;
        }
        var dir = Path.Combine(Path.GetTempPath(), $"clusterd-perm-{Guid.NewGuid():N}");
        await using var clusterd = ClusterdProcess.Start(
            $"[control]\nsocket = \"{dir}/ctl.sock\"\ngroup = \"nogroup\"\n\n" + Toml.Group("web", Toml.Worker(), 1, []), output);
        await clusterd.WaitForAsync(e => e.EventId == 4, what: "the control socket");

        var (code, _, stderr) = await Clusterctl.RunAsync($"{dir}/ctl.sock", "nobody", "status");

        Assert.Equal(1, code);
        Assert.Contains("permission denied", stderr, StringComparison.Ordinal);
        Assert.Contains(clusterd.Entries, e => e.EventId == 313 && e["Uid"] == "65534");
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task AsNobody_InReadGroup_MayReadButNotAct_AndAdminActionsAreAudited()
    {
        RequireRoot();
        if (!Native.IsRoot)
        {
            return;
        }
        var dir = Path.Combine(Path.GetTempPath(), $"clusterd-perm-{Guid.NewGuid():N}");
        await using var clusterd = ClusterdProcess.Start(
            $"[control]\nsocket = \"{dir}/ctl.sock\"\ngroup = \"nogroup\"\nread_group = \"nogroup\"\n\n" + Toml.Group("web", Toml.Worker(), 1, []), output);
        await clusterd.WaitForEventAsync("listening", "web");
        await clusterd.WaitForAsync(e => e.EventId == 4, what: "the control socket");

        var status = await Clusterctl.RunAsync($"{dir}/ctl.sock", "nobody", "status");
        var scale = await Clusterctl.RunAsync($"{dir}/ctl.sock", "nobody", "scale", "web", "2");
        var asRoot = await Clusterctl.RunAsync($"{dir}/ctl.sock", null, "scale", "web", "2");

        Assert.True(status.ExitCode == 0, status.Stderr);
        Assert.Equal(1, scale.ExitCode);
        Assert.Contains("permission denied", scale.Stderr, StringComparison.Ordinal);
        Assert.Equal(0, asRoot.ExitCode);
        var audit = Assert.Single(clusterd.Entries, e => e.EventId == 310);
        Assert.Equal(("0", "scale"), (audit["Uid"], audit["Command"]));
        Assert.Contains("count=2", audit["Arguments"], StringComparison.Ordinal);
        Assert.All(clusterd.Entries.Where(e => e.EventId is 310 or 311), e => Assert.Equal("clusterd.audit", Category(e)));
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task SocketOfAnotherUser_IsRefusedBeforeAnythingIsSent()
    {
        RequireRoot();
        if (!Native.IsRoot)
        {
            return;
        }
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 1, []), output);
        await clusterd.WaitForEventAsync("listening", "web");
        await (await clusterd.ConnectAsync()).DisposeAsync();
        await ChownAsync("65534", clusterd.ControlSocket);

        var foreign = await Clusterctl.RunAsync(clusterd.ControlSocket, null, "scale", "web", "2");
        await ChownAsync("0", clusterd.ControlSocket);
        var own = await Clusterctl.RunAsync(clusterd.ControlSocket, null, "scale", "web", "3");

        Assert.Equal(111, foreign.ExitCode);
        Assert.Contains($"not talking to {clusterd.ControlSocket}: the socket belongs to uid 65534, not to root or to you (uid 0)", foreign.Stderr, StringComparison.Ordinal);
        Assert.True(own.ExitCode == 0, own.Stderr);
        var audit = Assert.Single(clusterd.Entries, e => e.EventId == 310); // the refused scale never reached clusterd
        Assert.Contains("count=3", audit["Arguments"], StringComparison.Ordinal);
    }

    /// <summary>
    /// clusterctl writes stdout itself (Platform/StandardOutputStream), as Console's stream did: a non-blocking stdout
    /// with no room is waited for. The pipe is full before clusterctl starts, and drained only once clusterctl waits in
    /// poll(2), so the wait is what this makes happen.
    /// </summary>
    [Fact]
    public async Task Status_StdoutNonBlockingAndFull_WaitsForRoomAndWritesEverything()
    {
        const string script = """
            import os, subprocess, sys
            r, w = os.pipe()
            os.set_blocking(w, False)
            filled = 0
            try:
                while True:
                    filled += os.write(w, b"x" * 4096)
            except BlockingIOError:
                pass
            child = subprocess.Popen(sys.argv[1:], stdout=w)
            os.close(w)
            # Its main thread waiting in poll(2) or ppoll(2) (x86-64: 7, 271) for room in the pipe.
            while open(f"/proc/{child.pid}/syscall").read().split()[0] not in ("7", "271"):
                if child.poll() is not None:
                    sys.exit(f"clusterctl ended ({child.returncode}) without waiting for room")
            out = b""
            while chunk := os.read(r, 65536):
                out += chunk
            code = child.wait()
            sys.stdout.buffer.write(out[filled:])
            sys.exit(code)
            """;
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 2, []), output);
        await clusterd.WaitForEventAsync("listening", "web", count: 2);
        var expected = await Clusterctl.RunAsync(clusterd.ControlSocket, null, "status", "--json");

        var (code, stdout, stderr) = await RunPythonAsync(script, Repo.Clusterctl, "--socket", clusterd.ControlSocket, "status", "--json");

        Assert.True(code == 0, stderr);
        Assert.Equal(WorkerPids(expected.Stdout), WorkerPids(stdout)); // all of it: uptimes and CPU may have moved on
        Assert.Equal(2, WorkerPids(stdout).Length);
    }

    private static int[] WorkerPids(string statusJson) =>
        [.. System.Text.Json.JsonDocument.Parse(statusJson).RootElement.GetProperty("groups")[0].GetProperty("workers")
            .EnumerateArray().Select(w => w.GetProperty("pid").GetInt32())];

    /// <summary>A reader that went away (<c>clusterctl status | head -1</c>) is no error, as it was not with Console's stream.</summary>
    [Fact]
    public async Task Status_StdoutReaderGone_ExitsOkSayingNothing()
    {
        const string script = """
            import os, subprocess, sys
            r, w = os.pipe()
            os.close(r)
            sys.exit(subprocess.call(sys.argv[1:], stdout=w))
            """;
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 1, []), output);
        await clusterd.WaitForEventAsync("listening", "web");

        var (code, _, stderr) = await RunPythonAsync(script, Repo.Clusterctl, "--socket", clusterd.ControlSocket, "status");

        Assert.Equal(0, code);
        Assert.Equal("", stderr);
    }

    /// <summary>
    /// Ctrl-C during a command of one round trip keeps its default meaning (clusterctl registers no handler for it):
    /// the process ends as interrupted, as any Unix tool would. `env --default-signal` makes SIGINT's disposition
    /// clusterctl's own, whatever this test runner inherited.
    /// </summary>
    [Fact]
    public async Task Status_InterruptedWhileWaiting_EndsAsInterrupted()
    {
        var (code, stderr) = await InterruptWhileWaitingAsync(answerFirst: false, "status");

        Assert.True(code == 128 + Native.SIGINT, $"exit {code}: {stderr}");
    }

    /// <summary>Ctrl-C during a follow stops it, and clusterctl exits 0 (docs/clusterctl.md).</summary>
    [Fact]
    public async Task EventsFollow_InterruptedWhileWaiting_StopsAndExitsOk()
    {
        var (code, stderr) = await InterruptWhileWaitingAsync(answerFirst: true, "events", "--follow");

        Assert.True(code == 0, $"exit {code}: {stderr}");
    }

    /// <summary>Runs clusterctl against a listener that reads its request and then waits; interrupts it there.</summary>
    private static async Task<(int ExitCode, string Stderr)> InterruptWhileWaitingAsync(bool answerFirst, params string[] args)
    {
        var directory = Directory.CreateTempSubdirectory("clusterctl-int-").FullName;
        try
        {
            var path = Path.Combine(directory, "clusterd.sock");
            using var listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream,
                System.Net.Sockets.ProtocolType.Unspecified);
            listener.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
            listener.Listen();
            var psi = new System.Diagnostics.ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in (string[])["--default-signal=INT", Repo.Clusterctl, "--socket", path, .. args])
            {
                psi.ArgumentList.Add(arg);
            }
            using var process = System.Diagnostics.Process.Start(psi)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            using var connection = await listener.AcceptAsync(deadline.Token);
            await using var stream = new System.Net.Sockets.NetworkStream(connection);
            var request = await Clusterd.Protocol.Framing.ReadAsync(stream, deadline.Token);
            Assert.NotNull(request);
            if (answerFirst)
            {
                var id = System.Text.Json.JsonDocument.Parse(request).RootElement.GetProperty("id").GetInt64();
                await Clusterd.Protocol.Framing.WriteAsync(stream,
                    System.Text.Encoding.UTF8.GetBytes($"{{\"id\":{id},\"ok\":true,\"more\":true,\"events\":[]}}"), deadline.Token);
            }

            Assert.Equal(0, Native.Kill(process.Id, Native.SIGINT));
            await process.WaitForExitAsync(deadline.Token);
            await stdout;
            return (process.ExitCode, await stderr);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunPythonAsync(string script, params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(NotifyClients.Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        foreach (var arg in args)
        {
            psi.ArgumentList.Add(arg);
        }
        psi.Environment["NO_COLOR"] = "1";
        using var process = System.Diagnostics.Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(deadline.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    private static string? Category(LogEntry entry) =>
        System.Text.Json.JsonDocument.Parse(entry.Raw).RootElement.GetProperty("category").GetString();

    private static async Task ChownAsync(string owner, string path)
    {
        using var chown = System.Diagnostics.Process.Start("chown", [owner, path]);
        await chown.WaitForExitAsync();
        Assert.Equal(0, chown.ExitCode);
    }
}
