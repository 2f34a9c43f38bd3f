using Clusterd.IntegrationTests.Infrastructure;
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

    private static string? Category(LogEntry entry) =>
        System.Text.Json.JsonDocument.Parse(entry.Raw).RootElement.GetProperty("category").GetString();

    private static async Task ChownAsync(string owner, string path)
    {
        using var chown = System.Diagnostics.Process.Start("chown", [owner, path]);
        await chown.WaitForExitAsync();
        Assert.Equal(0, chown.ExitCode);
    }
}
