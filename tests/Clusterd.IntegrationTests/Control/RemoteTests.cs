using System.Text.Json;
using Clusterd.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Clusterd.IntegrationTests.Control;

/// <summary>
/// clusterctl --host against a real sshd on loopback and a real clusterd: the same answers as the local socket, several
/// hosts prefixed, the remote login's uid deciding the role, and ssh's failures explained.
/// </summary>
public sealed class RemoteTests(ITestOutputHelper output)
{
    private static Dictionary<string, string> SshEnvironment(Sshd sshd) => new() { ["CLUSTERD_SSH_CONFIG"] = sshd.ClientConfig };

    [RequiresSshd]
    public async Task Status_OverSsh_EqualsTheLocalStatus()
    {
        await using var sshd = await Sshd.StartAsync(output);
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 2, []), output);
        await clusterd.WaitForEventAsync("listening", "web", count: 2);

        var local = await Clusterctl.RunAsync(clusterd.ControlSocket, null, "status", "--json");
        var remote = await Clusterctl.RunAsync(clusterd.ControlSocket, null, SshEnvironment(sshd), "status", "--json", "--host", sshd.Url("root"));

        Assert.True(remote.ExitCode == 0, remote.Stderr);
        Assert.Equal(Summary(local.Stdout), Summary(remote.Stdout));
        Assert.Equal(2, Summary(remote.Stdout).Count);
    }

    [RequiresSshd]
    public async Task Status_TwoHosts_EveryRowStartsWithItsHost()
    {
        await using var sshd = await Sshd.StartAsync(output);
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 1, []), output);
        await clusterd.WaitForEventAsync("listening", "web");
        var hosts = new[] { sshd.Url("root"), sshd.Url(null) };

        var (code, stdout, stderr) = await Clusterctl.RunAsync(clusterd.ControlSocket, null,
            new Dictionary<string, string>(SshEnvironment(sshd)) { ["CLUSTERD_HOST"] = string.Join(',', hosts) }, "status");

        Assert.True(code == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var labels = new[] { $"root@127.0.0.1:{sshd.Port}", $"127.0.0.1:{sshd.Port}" };
        Assert.Equal(6, lines.Length); // per host: the group, the table header, one worker
        Assert.All(lines[..3], l => Assert.StartsWith(labels[0] + "  ", l, StringComparison.Ordinal));
        Assert.All(lines[3..], l => Assert.StartsWith(labels[1].PadRight(labels[0].Length) + "  ", l, StringComparison.Ordinal));
        Assert.Matches(@"^root@127\.0\.0\.1:\d+  web\s+running\s+1/1 ready", lines[0]);
    }

    [RequiresSshd]
    public async Task UnprivilegedLogin_GetsTheReaderRoleOfItsUid()
    {
        await using var sshd = await Sshd.StartAsync(output);
        var user = await Sshd.EnsureUserAsync("clusterd-ssh-test");
        var dir = Path.Combine(Path.GetTempPath(), $"clusterd-remote-{Guid.NewGuid():N}");
        await using var clusterd = ClusterdProcess.Start(
            $"[control]\nsocket = \"{dir}/ctl.sock\"\ngroup = \"nogroup\"\nread_group = \"nogroup\"\n\n" + Toml.Group("web", Toml.Worker(), 1, []), output);
        await clusterd.WaitForEventAsync("listening", "web");

        var status = await Clusterctl.RunAsync($"{dir}/ctl.sock", null, SshEnvironment(sshd), "health", "--host", sshd.Url(user));
        var restart = await Clusterctl.RunAsync($"{dir}/ctl.sock", null, SshEnvironment(sshd), "restart", "web", "--host", sshd.Url(user));

        Assert.True(status.ExitCode == 0, status.Stderr);
        Assert.Matches(@"web\s+running\s+1/1\s+yes", status.Stdout);
        Assert.Equal(1, restart.ExitCode);
        Assert.Contains("permission denied", restart.Stderr, StringComparison.Ordinal);
        var uid = (await File.ReadAllLinesAsync("/etc/passwd")).Select(l => l.Split(':')).Single(f => f[0] == user)[2];
        Assert.Contains(clusterd.Entries, e => e.EventId == 311 && e["Uid"] == uid);
    }

    [RequiresSshd]
    public async Task NoRemoteClusterctl_ExitsSystemSayingHowToNameIt()
    {
        await using var sshd = await Sshd.StartAsync(output);
        var url = $"ssh://root@127.0.0.1:{sshd.Port}?clusterctl=/nonexistent/clusterctl";

        var (code, _, stderr) = await Clusterctl.RunAsync("/run/none.sock", null, SshEnvironment(sshd), "status", "--host", url);

        Assert.Equal(111, code);
        Assert.Contains($"root@127.0.0.1:{sshd.Port} has no '/nonexistent/clusterctl' (exit 127", stderr, StringComparison.Ordinal);
    }

    [RequiresSshd]
    public async Task SshCannotConnect_ExitsSystemWithSshsReason()
    {
        await using var sshd = await Sshd.StartAsync(output);
        var closed = Ports.Free();

        var (code, _, stderr) = await Clusterctl.RunAsync("/run/none.sock", null, SshEnvironment(sshd), "version", "--host", $"ssh://root@127.0.0.1:{closed}");

        Assert.Equal(111, code);
        Assert.Contains($"ssh to root@127.0.0.1:{closed} failed (exit 255): ssh: connect to host 127.0.0.1 port {closed}: Connection refused",
            stderr, StringComparison.Ordinal);
    }

    /// <summary>What does not change between two status calls: per worker its group, slot, pid and state.</summary>
    private static List<string> Summary(string statusJson) =>
        [.. JsonDocument.Parse(statusJson).RootElement.GetProperty("groups").EnumerateArray()
            .SelectMany(g => g.GetProperty("workers").EnumerateArray().Select(w =>
                $"{g.GetProperty("name").GetString()}/{w.GetProperty("slot").GetInt32()} pid {w.GetProperty("pid").GetInt32()} {w.GetProperty("state").GetString()}"))];
}
