using System.Net.Sockets;
using Clusterd.IntegrationTests.Infrastructure;
using Clusterd.Protocol.Messages;
using Xunit.Abstractions;

namespace Clusterd.IntegrationTests.Supervision;

/// <summary>A <c>unix:</c> listen path: clusterd never deletes or follows what it did not create there.</summary>
public sealed class UnixListenPathTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("clusterd-unix-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string PathOf(string name) => Path.Combine(_dir, name);

    /// <summary>"precious" at <paramref name="path"/>: a regular file, or a link to one.</summary>
    private void Plant(string path, bool link)
    {
        File.WriteAllText(link ? PathOf("target") : path, "precious");
        if (link)
        {
            File.CreateSymbolicLink(path, PathOf("target"));
        }
    }

    private static void AssertUntouched(string path, bool link)
    {
        Assert.Equal("precious", File.ReadAllText(path));
        Assert.Equal(link, new FileInfo(path).LinkTarget is not null);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Start_ListenPathIsAFileOrALink_RefusesToStartNamingIt_AndLeavesItAlone(bool link)
    {
        var path = PathOf("web.sock");
        Plant(path, link);
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 1, [$"unix:{path}"]), output);

        var code = await clusterd.WaitForExitAsync();

        Assert.NotEqual(0, code);
        Assert.Contains(clusterd.Entries, e => e.Message.Contains($"group 'web': listen path {path} ", StringComparison.Ordinal));
        Assert.DoesNotContain(clusterd.Entries, e => e.Event == "fork");
        AssertUntouched(path, link);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Reload_AddsAListenPathThatIsAFileOrALink_IsRefusedNamingIt_AndLeavesItAlone(bool link)
    {
        var path = PathOf("api.sock");
        Plant(path, link);
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker(), 1, []), output);
        await clusterd.WaitForEventAsync("listening", "web");
        await File.WriteAllTextAsync(clusterd.ConfigPath, $"[control]\nsocket = \"{clusterd.ControlSocket}\"\n\n"
            + Toml.Group("web", Toml.Worker(), 1, []) + Toml.Group("api", Toml.Worker(), 1, [$"unix:{path}"]));

        var reload = await clusterd.RequestAsync(new Request { Command = Commands.Reload });

        Assert.False(reload.Ok);
        Assert.Contains($"group 'api': listen path {path} ", reload.Error!.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(clusterd.Events("api"), e => e.Event == "fork");
        AssertUntouched(path, link);
    }

    [Fact]
    public async Task CheckConfig_ListenPathIsAFile_ReportsIt()
    {
        var path = PathOf("web.sock");
        Plant(path, link: false);
        var config = PathOf("clusterd.toml");
        await File.WriteAllTextAsync(config, $"[control]\nsocket = \"{PathOf("ctl.sock")}\"\n\n" + Toml.Group("web", Toml.Worker(), 1, [$"unix:{path}"]));

        var (code, _, stderr) = await ClusterdProcess.RunToExitAsync("--check-config", "--config", config);

        Assert.Equal(1, code);
        Assert.Contains($"{config}: group 'web': listen path {path} exists and is a regular file, not a socket", stderr, StringComparison.Ordinal);
        AssertUntouched(path, link: false);
    }

    [Fact]
    public async Task Exit_RemovesTheSocketFileItBound_ButNotOneThatReplacedIt()
    {
        var (ours, replaced) = (PathOf("web.sock"), PathOf("api.sock"));
        await using var clusterd = ClusterdProcess.Start(
            Toml.Group("web", Toml.Worker(), 1, [$"unix:{ours}"]) + Toml.Group("api", Toml.Worker(), 1, [$"unix:{replaced}"]), output);
        await clusterd.WaitForEventAsync("listening", "web");
        await clusterd.WaitForEventAsync("listening", "api");
        Assert.Equal(200, (await Http.GetAsync(new UnixDomainSocketEndPoint(ours))).Status);
        File.Delete(replaced); // someone else's file takes the path while clusterd runs
        Plant(replaced, link: false);

        clusterd.Signal(Native.SIGTERM);

        Assert.Equal(0, await clusterd.WaitForExitAsync());
        Assert.False(Path.Exists(ours));
        AssertUntouched(replaced, link: false);
    }
}
