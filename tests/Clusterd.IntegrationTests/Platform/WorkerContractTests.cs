using System.Net;
using System.Net.Sockets;
using Clusterd.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Clusterd.IntegrationTests.Platform;

/// <summary>What a worker sees, checked from inside real workers: the systemd socket-activation contract and nothing more.</summary>
public class WorkerContractTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Worker_SeesSystemdListenContract_ForItsOwnPid()
    {
        var port = Ports.Free();
        var path = Path.Combine(Path.GetTempPath(), $"clusterd-env-{Guid.NewGuid():N}.sock"[..40]);
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker(), 2, [$"127.0.0.1:{port}", $"unix:{path}"], "reuseport", "notify", "env = { APP_MODE = \"test\" }"), output);
        await clusterd.WaitForEventAsync("listening", "web", count: 2);

        var env = await Http.GetJsonAsync(port, "/env");

        var pid = env.GetProperty("pid").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal("2", env.GetProperty("LISTEN_FDS").GetString());
        Assert.Equal("web:web", env.GetProperty("LISTEN_FDNAMES").GetString());
        Assert.Equal(pid, env.GetProperty("LISTEN_PID").GetString());
        Assert.Equal(pid, env.GetProperty("SYSTEMD_EXEC_PID").GetString());
        Assert.Equal(Path.Combine(clusterd.Directory, "notify", "web"), env.GetProperty("NOTIFY_SOCKET").GetString());
        Assert.Equal("web", env.GetProperty("CLUSTERD_GROUP").GetString());
        Assert.True(env.GetProperty("CLUSTERD_WORKER").GetString() is "0" or "1");
        Assert.Equal("1", env.GetProperty("CLUSTERD_GENERATION").GetString());
        Assert.Equal(pid, env.GetProperty("pgid").ToString());
    }

    [Fact]
    public async Task Worker_InheritsOnlyStdioAndItsListeners()
    {
        var port = Ports.Free();
        // `ls` runs in the worker's process (exec keeps the pid and the fds), so it lists exactly what the worker got.
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", ["/bin/sh", "-c", "exec ls -l /proc/self/fd/"], 1, [$"127.0.0.1:{port}"], "reuseport", "started",
                "restart = \"never\""), output);
        // fds 0-3 and the directory ls opened: five lines, whatever else there might be.
        var lines = (await clusterd.WaitForAsync(e => e.EventId == LogEntry.WorkerOutput && e["Line"]!.Contains(" -> ", StringComparison.Ordinal), count: 5))
            .Select(e => e["Line"]!).ToArray();
        await clusterd.WaitForEventAsync("exit", "web");

        var fds = lines.Select(l => l[..l.IndexOf(" -> ", StringComparison.Ordinal)].Split(' ')[^1])
            .Zip(lines.Select(l => l[(l.IndexOf(" -> ", StringComparison.Ordinal) + 4)..]))
            .Where(p => !p.Second.StartsWith("/proc/", StringComparison.Ordinal)) // the directory ls itself opened
            .ToDictionary(p => p.First, p => p.Second);

        Assert.Equal(["0", "1", "2", "3"], fds.Keys.Order());
        Assert.Equal("/dev/null", fds["0"]);
        Assert.StartsWith("pipe:", fds["1"], StringComparison.Ordinal);
        Assert.StartsWith("pipe:", fds["2"], StringComparison.Ordinal);
        Assert.StartsWith("socket:", fds["3"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task KestrelHello_UseSystemd_AdoptsFd3AndReportsReady()
    {
        var port = Ports.Free();
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("hello", [Repo.Hello], 2, [$"127.0.0.1:{port}"], "reuseport", "notify",
                "ready_timeout = \"20s\"", "env = { DOTNET_SYSTEM_GLOBALIZATION_INVARIANT = \"1\" }"), output);

        var ready = await clusterd.WaitForEventAsync("listening", "hello", count: 2);
        var (status, body, head) = await Http.GetAsync(port);

        Assert.Equal(200, status);
        Assert.Equal("Hello World!\n", body);
        Assert.Contains(ready, r => head.Contains($"X-Worker-Pid: {r.Pid}", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task AsRoot_WorkerRunsAsConfiguredUser_OnAPortOnlyRootCanBind()
    {
        if (!Native.IsRoot)
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", "CI runs as root; this test must not be skipped there");
            return;
        }
        var port = FreePrivilegedPort();
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", ["/bin/sh", "-c", "echo uid=$(id -u) gid=$(id -g) groups=$(id -G) fd3=$(readlink /proc/$$/fd/3); exec sleep 1000"],
                1, [$"127.0.0.1:{port}"], "reuseport", "started", "min_uptime = \"0s\"", "user = \"nobody\""), output);

        var line = (await clusterd.WaitForAsync(e => e.EventId == LogEntry.WorkerOutput && e["Line"]!.StartsWith("uid=", StringComparison.Ordinal)))[0]["Line"]!;

        Assert.Contains("uid=65534 ", line, StringComparison.Ordinal);
        Assert.Contains("gid=65534 ", line, StringComparison.Ordinal);
        Assert.Contains("groups=65534 ", line, StringComparison.Ordinal);
        Assert.Contains("fd3=socket:[", line, StringComparison.Ordinal);
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await probe.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)); // clusterd, as root, holds the privileged port
    }

    private static int FreePrivilegedPort()
    {
        for (var port = 1000; port > 600; port--)
        {
            try
            {
                using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                s.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException)
            {
            }
        }
        throw new InvalidOperationException("no free port below 1024 on 127.0.0.1");
    }
}
