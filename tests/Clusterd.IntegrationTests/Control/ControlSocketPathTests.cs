using System.Diagnostics;
using Clusterd.IntegrationTests.Infrastructure;
using Clusterd.Protocol.Platform;
using Xunit.Abstractions;

namespace Clusterd.IntegrationTests.Control;

/// <summary>
/// What clusterd does with the control socket's path: it makes its directory 0751 and the socket 0660 in its group,
/// replaces only a socket nobody listens on, and refuses (naming the path, touching nothing) whatever else it finds:
/// a file, a link, a directory someone else could write to or owns.
/// </summary>
public sealed class ControlSocketPathTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("clusterd-path-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Config(string socket, string extra = "") =>
        $"[control]\nsocket = \"{socket}\"\n{extra}\n" + Toml.Group("web", Toml.Worker(), 1, []);

    private async Task<ClusterdProcess> FailToStartAsync(string socket)
    {
        var clusterd = ClusterdProcess.Start(Config(socket), output);
        Assert.Equal(1, await clusterd.WaitForExitAsync());
        Assert.DoesNotContain(clusterd.Entries, e => e.Event == "fork");
        return clusterd;
    }

    private static async Task RunAsync(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        await p.WaitForExitAsync();
        Assert.Equal(0, p.ExitCode);
    }

    private static void RequireRoot() =>
        Assert.False(!Native.IsRoot && Environment.GetEnvironmentVariable("CI") == "true", "CI runs as root; ownership tests must not be skipped there");

    [Fact]
    public async Task Start_RegularFileAtThePath_IsRefusedNamingItAndKeepsItsContent()
    {
        var path = Path.Combine(_dir, "ctl.sock");
        await File.WriteAllTextAsync(path, "precious");

        await using var clusterd = await FailToStartAsync(path);

        Assert.Contains(clusterd.Entries, e => e.Message.Contains($"[control] socket {path} exists and is a regular file", StringComparison.Ordinal));
        Assert.Equal("precious", await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task Start_SymlinkAtThePath_IsRefusedAndLinkAndTargetStay()
    {
        var target = Path.Combine(_dir, "target");
        await File.WriteAllTextAsync(target, "precious");
        var path = Path.Combine(_dir, "ctl.sock");
        File.CreateSymbolicLink(path, target);

        await using var clusterd = await FailToStartAsync(path);

        Assert.Contains(clusterd.Entries, e => e.Message.Contains($"[control] socket {path} is a symbolic link", StringComparison.Ordinal));
        Assert.Equal(target, new FileInfo(path).LinkTarget);
        Assert.Equal("precious", await File.ReadAllTextAsync(target));
    }

    [Theory]
    [InlineData(0b111_111_101, "writable by its group")]
    [InlineData(0b111_101_111, "writable by everyone")]
    public async Task Start_DirectoryOthersCanWrite_IsRefusedWithTheFix(int mode, string why)
    {
        var run = Path.Combine(_dir, "run");
        Directory.CreateDirectory(run);
        File.SetUnixFileMode(run, (UnixFileMode)mode);

        await using var clusterd = await FailToStartAsync(Path.Combine(run, "ctl.sock"));

        Assert.Contains(clusterd.Entries, e => e.Message.Contains($"[control] socket directory {run} is {why}", StringComparison.Ordinal)
            && e.Message.Contains($"`chmod go-w {run}`", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Start_DirectoryOfAnotherUser_IsRefusedWithTheFix()
    {
        RequireRoot();
        if (!Native.IsRoot)
        {
            return;
        }
        var run = Path.Combine(_dir, "run");
        Directory.CreateDirectory(run);
        await RunAsync("chown", "65534", run);

        await using var clusterd = await FailToStartAsync(Path.Combine(run, "ctl.sock"));

        Assert.Contains(clusterd.Entries, e => e.Message.Contains($"[control] socket directory {run} belongs to uid 65534", StringComparison.Ordinal)
            && e.Message.Contains("remove it", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CheckConfig_FileAtTheSocketPath_IsReportedAndLeftAlone()
    {
        var path = Path.Combine(_dir, "ctl.sock");
        await File.WriteAllTextAsync(path, "precious");
        var config = Path.Combine(_dir, "clusterd.toml");
        await File.WriteAllTextAsync(config, Config(path));

        var (code, _, stderr) = await ClusterdProcess.RunToExitAsync("--check-config", "--config", config);

        Assert.Equal(1, code);
        Assert.Contains($"{config}: [control] socket {path} exists and is a regular file", stderr, StringComparison.Ordinal);
        Assert.Equal("precious", await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task CheckConfig_UnsafeDirectory_IsReportedAndLeftAlone()
    {
        var run = Path.Combine(_dir, "run");
        Directory.CreateDirectory(run);
        File.SetUnixFileMode(run, (UnixFileMode)0b111_111_101);
        var config = Path.Combine(_dir, "clusterd.toml");
        await File.WriteAllTextAsync(config, Config(Path.Combine(run, "ctl.sock")));

        var (code, _, stderr) = await ClusterdProcess.RunToExitAsync("--check-config", "--config", config);

        Assert.Equal(1, code);
        Assert.Contains($"[control] socket directory {run} is writable by its group", stderr, StringComparison.Ordinal);
        Assert.Equal((UnixFileMode)0b111_111_101, File.GetUnixFileMode(run));
    }

    [Fact]
    public async Task Start_MissingDirectory_IsMade0751WithTheSocket0660InItsGroup_AndTheSocketGoesWithClusterd()
    {
        var run = Path.Combine(_dir, "run");
        var path = Path.Combine(run, "ctl.sock");
        var group = Native.IsRoot ? "group = \"nogroup\"" : "";
        await using var clusterd = ClusterdProcess.Start(Config(path, group), output);
        await clusterd.WaitForEventAsync("listening", "web");

        Assert.Equal((UnixFileMode)0b111_101_001, File.GetUnixFileMode(run));
        Assert.Equal((UnixFileMode)0b110_110_000, File.GetUnixFileMode(path));
        if (Native.IsRoot)
        {
            Assert.Equal(0, PathStatus.Read(path, out var socket));
            Assert.Equal(NoGroupGid(), socket.Gid);
        }
        clusterd.Signal(Native.SIGTERM);
        Assert.Equal(0, await clusterd.WaitForExitAsync());
        Assert.False(File.Exists(path), "clusterd removes the socket it made when it stops");
    }

    private static uint NoGroupGid() =>
        uint.Parse(File.ReadLines("/etc/group").First(l => l.StartsWith("nogroup:", StringComparison.Ordinal)).Split(':')[2], System.Globalization.CultureInfo.InvariantCulture);
}
