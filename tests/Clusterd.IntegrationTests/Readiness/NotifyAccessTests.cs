using Clusterd.IntegrationTests.Infrastructure;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;
using Xunit.Abstractions;

namespace Clusterd.IntegrationTests.Readiness;

/// <summary>Who can reach a group's NOTIFY_SOCKET, and whose messages count: checked from outside, with real senders.</summary>
public sealed class NotifyAccessTests(ITestOutputHelper output) : IDisposable
{
    private const int StrangerEventId = 400;

    private readonly NotifyClients _clients = new();
    private readonly List<string> _runtimes = [];

    public void Dispose()
    {
        _clients.Dispose();
        foreach (var runtime in _runtimes)
        {
            Directory.Delete(runtime, recursive: true);
        }
    }

    private static string NotifyPath(string runtimeDirectory, string group) => Path.Combine(runtimeDirectory, "notify", group);

    /// <summary>
    /// A runtime directory (the control socket's, so notify/ goes inside) that other users may traverse whatever the
    /// umask: for workers that run as another user.
    /// </summary>
    private string NewRuntimeDirectory()
    {
        var runtime = Directory.CreateTempSubdirectory("clusterd-notify-runtime-").FullName;
        File.SetUnixFileMode(runtime, (UnixFileMode)0x1ED); // 0755
        _runtimes.Add(runtime);
        return runtime;
    }

    private static bool RequireRoot()
    {
        Assert.False(!Native.IsRoot && Environment.GetEnvironmentVariable("CI") == "true", "CI runs as root; permission tests must not be skipped there");
        return Native.IsRoot;
    }

    [Fact]
    public async Task AsRoot_OtherUsersAndOtherGroupsWorkers_GetEaccesWhileTheGroupsOwnUserMaySend()
    {
        if (!RequireRoot())
        {
            return;
        }
        // Every directory on the way is open to other users, so EACCES can only come from the socket itself.
        var runtime = NewRuntimeDirectory();
        var web = NotifyPath(runtime, "web");
        await using var clusterd = ClusterdProcess.Start(
            $"[control]\nsocket = \"{runtime}/ctl.sock\"\n\n"
            + Toml.Group("web", [NotifyClients.Python, _clients.PathOnlyWorker], 1, [], "reuseport", "notify", "user = \"daemon\"")
            + Toml.Group("other", ["/bin/sh", "-c", $"{NotifyClients.Python} {_clients.Send} {web} READY=1; exec sleep 1000"], 1, [],
                "reuseport", "started", "user = \"nobody\"", "min_uptime = \"0s\""), output);

        // web's worker runs as daemon and reaches its socket through the 0711 notify directory: it becomes ready.
        await clusterd.WaitForEventAsync("listening", "web");
        var fromOtherGroup = await clusterd.WaitForAsync(e => e.EventId == LogEntry.WorkerOutput && e.Group == "other", what: "other's worker's result");
        var fromNobody = await _clients.SendAsync(web, "READY=1", asUid: 65534);
        var fromStrangerUid = await _clients.SendAsync(web, "READY=1", asUid: 4242);

        Assert.Equal("errno=13", fromOtherGroup[0]["Line"]);
        Assert.Equal("errno=13", fromNobody);
        Assert.Equal("errno=13", fromStrangerUid);
        Assert.DoesNotContain(clusterd.Entries, e => e.EventId == StrangerEventId); // nothing got through to be judged
        clusterd.Signal(Native.SIGTERM);
        Assert.Equal(0, await clusterd.WaitForExitAsync());
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(runtime, "notify"))); // clusterd's sockets go with it
    }

    [Fact]
    public async Task AsRoot_UnderAUmaskThatTakesOthersBits_WorkersOfAnotherUserStillReachTheirSocket()
    {
        if (!RequireRoot())
        {
            return;
        }
        // clusterd.service runs clusterd with UMask=0027: notify/ must still be 0711, or nobody's READY=1 never arrives.
        var runtime = NewRuntimeDirectory();
        await using var clusterd = ClusterdProcess.Start($"[control]\nsocket = \"{runtime}/ctl.sock\"\n\n"
            + Toml.Group("web", [NotifyClients.Python, _clients.PathOnlyWorker], 1, [], "reuseport", "notify", "user = \"nobody\""),
            output, environment: null, launcher: ["/bin/sh", "-c", "umask 027 && exec \"$@\"", "sh"]);

        await clusterd.WaitForEventAsync("listening", "web");

        Assert.Equal("711", await NotifyClients.RunAsync("stat", "-c", "%a", Path.Combine(runtime, "notify")));
        Assert.DoesNotContain(clusterd.Entries, e => e.EventId == 405); // nothing on the way shuts nobody out
    }

    [Fact]
    public async Task PathOnlyClient_SendsReadyToNotifySocket_WorkerBecomesReady()
    {
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("py", [NotifyClients.Python, _clients.PathOnlyWorker], 1, [], "reuseport", "notify"), output);

        var ready = await clusterd.WaitForEventAsync("listening", "py");
        var said = await clusterd.WaitForAsync(e => e.EventId == LogEntry.WorkerOutput && e.Group == "py", what: "the worker's output");

        Assert.Equal(("sent READY=1", ready[0].Pid), (said[0]["Line"], said[0].Pid)); // it found a path it understands
    }

    [Fact]
    public async Task SystemdNotify_FromAWorkersChild_TurnsTheWorkerReady()
    {
        if (!File.Exists("/usr/bin/systemd-notify"))
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", "CI installs systemd: systemd-notify must be tested there");
            return;
        }
        // As a user, systemd-notify sends as its own pid (as root it would speak for its parent): a child of the worker's
        // session, not the worker's main process.
        var user = Native.IsRoot ? new[] { "user = \"nobody\"" } : [];
        var runtime = NewRuntimeDirectory();
        await using var clusterd = ClusterdProcess.Start($"[control]\nsocket = \"{runtime}/ctl.sock\"\n\n"
            + Toml.Group("sh", ["/bin/sh", "-c", "systemd-notify --ready && echo notified; exec sleep 1000"], 1, [], "reuseport", "notify", user), output);

        var ready = await clusterd.WaitForEventAsync("listening", "sh");
        var fork = Assert.Single(clusterd.Events("sh"), e => e.Event == "fork");

        Assert.Equal(fork.Pid, ready[0].Pid);
        Assert.DoesNotContain(clusterd.Entries, e => e.EventId == StrangerEventId);
    }

    [Fact]
    public async Task SameUserOutsideEveryWorkersSession_IsIgnoredAndLogged()
    {
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker("--no-ready"), 1, [], "reuseport", "notify",
            "ready_timeout = \"10m\""), output);
        await clusterd.WaitForEventAsync("online", "web");

        // The test's python is clusterd's user, so the socket takes it; it belongs to no worker's session.
        var sent = await _clients.SendAsync(NotifyPath(clusterd.Directory, "web"), "READY=1\nSTATUS=impostor");
        var stranger = await clusterd.WaitForAsync(e => e.EventId == StrangerEventId, what: "the stranger warning");
        var status = await clusterd.RequestAsync(new Request { Command = Commands.Status });

        Assert.Equal("sent", sent);
        Assert.Equal("web", stranger[0].Group);
        Assert.Equal("READY=1 STATUS=impostor", stranger[0]["Message"]);
        var worker = Assert.Single(status.Cluster!.Groups[0].Workers);
        Assert.Equal((PublicWorkerState.Starting, null), (worker.State, worker.Status));
    }

    [Fact]
    public async Task Reload_RemovedGroupLosesItsSocketAndAnAddedGroupGetsOne()
    {
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 1, []) + Toml.Group("api", Toml.Worker(), 1, []), output);
        await clusterd.WaitForEventAsync("listening", "api");
        Assert.True(File.Exists(NotifyPath(clusterd.Directory, "api")));
        var text = await File.ReadAllTextAsync(clusterd.ConfigPath);
        await File.WriteAllTextAsync(clusterd.ConfigPath,
            text[..text.IndexOf("[groups.", StringComparison.Ordinal)] + Toml.Group("web", Toml.Worker(), 1, []) + Toml.Group("jobs", Toml.Worker(), 1, []));

        var reload = await clusterd.RequestAsync(new Request { Command = Commands.Reload });
        await clusterd.WaitForEventAsync("exit", "api");
        await clusterd.WaitForEventAsync("listening", "jobs"); // through its own new socket

        Assert.True(reload.Ok, reload.Error?.Message);
        await Wait.UntilAsync(() => !File.Exists(NotifyPath(clusterd.Directory, "api")), "api's notify socket to go with its last worker");
        Assert.True(File.Exists(NotifyPath(clusterd.Directory, "web")));
    }

    [Fact]
    public async Task AsRoot_ReloadChangingTheUser_GivesTheSocketToTheNewUserBeforeTheReplacementsStart()
    {
        if (!RequireRoot())
        {
            return;
        }
        var runtime = NewRuntimeDirectory();
        var worker = new[] { NotifyClients.Python, _clients.PathOnlyWorker };
        await using var clusterd = ClusterdProcess.Start($"[control]\nsocket = \"{runtime}/ctl.sock\"\n\n"
            + Toml.Group("web", worker, 1, [], "reuseport", "notify", "user = \"daemon\""), output);
        await clusterd.WaitForEventAsync("listening", "web");
        await File.WriteAllTextAsync(clusterd.ConfigPath, $"[control]\nsocket = \"{runtime}/ctl.sock\"\n\n"
            + Toml.Group("web", worker, 1, [], "reuseport", "notify", "user = \"nobody\""));

        // The rollout waits for the replacement's READY=1: it succeeds only if nobody may send by then.
        var reload = await Clusterctl.RunAsync($"{runtime}/ctl.sock", null, "reload");

        Assert.True(reload.ExitCode == 0, reload.Stdout + reload.Stderr);
        Assert.Equal(2, (await clusterd.WaitForEventAsync("listening", "web", count: 2)).Count);
        Assert.Equal("65534", await NotifyClients.RunAsync("stat", "-c", "%u", NotifyPath(runtime, "web")));
    }

    [Fact]
    public async Task Reload_GroupAddedBackWhileItsOldWorkerStillStops_GetsASocketAndStarts()
    {
        var web = Toml.Group("web", Toml.Worker("--ignore-term"), 1, [], "reuseport", "notify", "stop_timeout = \"5m\"");
        await using var clusterd = ClusterdProcess.Start(web + Toml.Group("other", Toml.Worker(), 1, []), output);
        var first = await clusterd.WaitForEventAsync("listening", "web");
        var text = await File.ReadAllTextAsync(clusterd.ConfigPath);
        var control = text[..text.IndexOf("[groups.", StringComparison.Ordinal)];
        await File.WriteAllTextAsync(clusterd.ConfigPath, control + Toml.Group("other", Toml.Worker(), 1, []));
        var removed = await clusterd.RequestAsync(new Request { Command = Commands.Reload });
        await clusterd.WaitForEventAsync("disconnect", "web"); // signalled; it ignores SIGTERM and stays for stop_timeout

        await File.WriteAllTextAsync(clusterd.ConfigPath, control + web + Toml.Group("other", Toml.Worker(), 1, []));
        var added = await clusterd.RequestAsync(new Request { Command = Commands.Reload });
        var ready = await clusterd.WaitForEventAsync("listening", "web", count: 2);

        Assert.True(removed.Ok, removed.Error?.Message);
        Assert.True(added.Ok, added.Error?.Message);
        Assert.NotEqual(first[0].Pid, ready[1].Pid);
        Assert.True(Native.IsAlive(first[0].Pid)); // the old one still stopping: its socket made way, not its process
    }

    [Fact]
    public async Task Start_ListenAddressCannotBeBound_LeavesNoNotifySocketBehind()
    {
        using var taken = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        taken.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        taken.Listen(); // without SO_REUSEPORT: clusterd's bind of the same port fails
        var port = ((System.Net.IPEndPoint)taken.LocalEndPoint!).Port;
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 1, [$"127.0.0.1:{port}"]), output);

        var code = await clusterd.WaitForExitAsync();

        Assert.Equal(1, code);
        Assert.Contains(clusterd.Entries, e => e.EventId == 3);
        Assert.False(File.Exists(NotifyPath(clusterd.Directory, "web")), "the notify socket of a group that never started must go");
    }

    [Fact]
    public async Task Start_SomethingElseAtAGroupsNotifyPath_RefusesToStartAndLeavesItAlone()
    {
        var runtime = NewRuntimeDirectory();
        Directory.CreateDirectory(Path.Combine(runtime, "notify"), (UnixFileMode)0x1C9); // 0711
        var precious = NotifyPath(runtime, "web");
        await File.WriteAllTextAsync(precious, "precious");
        await using var clusterd = ClusterdProcess.Start($"[control]\nsocket = \"{runtime}/ctl.sock\"\n\n" + Toml.Group("web", Toml.Worker(), 1, []), output);

        var code = await clusterd.WaitForExitAsync();

        Assert.Equal(1, code);
        var error = Assert.Single(clusterd.Entries, e => e.EventId == 3);
        Assert.Contains($"the notify socket of group 'web' {precious} exists and is a regular file", error.Message, StringComparison.Ordinal);
        Assert.Equal("precious", await File.ReadAllTextAsync(precious));
        Assert.DoesNotContain(clusterd.Entries, e => e.Event == "fork");
    }
}
