using System.Text.Json;

namespace Clusterd.SystemTests;

/// <summary>The launchd plist, read by Python's plistlib (macOS's own parser is not available on Linux CI).</summary>
public sealed class PlistTests
{
    [Requires("python3")]
    public async Task LaunchdPlist_ParsesWithPlistlib_AndHasTheLaunchDaemonKeys()
    {
        var plist = Repo.Path("packaging", "launchd", "org.clusterd.clusterd.plist");
        const string Script = "import json, plistlib, sys; print(json.dumps(plistlib.load(open(sys.argv[1], 'rb'))))";

        var result = await HostProcess.RunAsync("python3", ["-c", Script, plist], TimeSpan.FromSeconds(30));

        Assert.True(result.ExitCode == 0, "plistlib could not load the plist:\n" + result);
        using var json = JsonDocument.Parse(result.Stdout);
        var root = json.RootElement;
        Assert.Equal("org.clusterd.clusterd", root.GetProperty("Label").GetString());
        var argv = root.GetProperty("ProgramArguments").EnumerateArray().Select(a => a.GetString()).ToList();
        Assert.Equal(["/usr/local/bin/clusterd", "--config", "/usr/local/etc/clusterd/clusterd.toml"], argv);
        Assert.True(root.GetProperty("RunAtLoad").GetBoolean());
        Assert.False(root.GetProperty("KeepAlive").GetProperty("SuccessfulExit").GetBoolean());
        var hello = root.GetProperty("Sockets").GetProperty("hello");
        Assert.Equal("127.0.0.1", hello.GetProperty("SockNodeName").GetString());
        Assert.Equal("8080", hello.GetProperty("SockServiceName").GetString());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("StandardOutPath").GetString()));
        Assert.False(string.IsNullOrEmpty(root.GetProperty("StandardErrorPath").GetString()));
    }
}
