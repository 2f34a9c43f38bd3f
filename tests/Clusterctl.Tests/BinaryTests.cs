using System.Diagnostics;

namespace Clusterctl.Tests;

/// <summary>The built executable, as a user or a script runs it: real argv, real exit status.</summary>
public sealed class BinaryTests
{
    private static ProcessStartInfo StartInfo(params string[] args)
    {
        // The referenced project's apphost is copied next to the tests; fall back to `dotnet clusterctl.dll`.
        var directory = AppContext.BaseDirectory;
        var apphost = Path.Combine(directory, "clusterctl");
        var info = File.Exists(apphost) ? new ProcessStartInfo(apphost) : new ProcessStartInfo("dotnet") { ArgumentList = { Path.Combine(directory, "clusterctl.dll") } };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        info.RedirectStandardOutput = info.RedirectStandardError = info.RedirectStandardInput = true;
        info.Environment["NO_COLOR"] = "1";
        return info;
    }

    private static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        using var process = Process.Start(StartInfo(args))!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task Help_ExitsZeroAndListsCommandsAndExitCodes()
    {
        var (code, stdout, _) = await RunAsync("--help");
        Assert.Equal(0, code);
        foreach (var command in new[] { "status", "health", "restart", "reload", "scale", "stop", "start", "signal", "events", "logs", "version", "ping", "dial-stdio", "completion", "shell" })
        {
            Assert.Contains($"  {command} ", stdout, StringComparison.Ordinal);
        }
        Assert.Contains("100 usage error", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadFlag_ExitsUsage()
    {
        var (code, stdout, stderr) = await RunAsync("status", "--no-such-flag");
        Assert.Equal(100, code);
        Assert.Contains("--no-such-flag", stderr, StringComparison.Ordinal);
        Assert.Equal("", stdout);
    }

    [Fact]
    public async Task NoArgumentsNotATerminal_ExitsUsage()
    {
        var (code, _, stderr) = await RunAsync();
        Assert.Equal(100, code);
        Assert.Contains("clusterctl --help", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SuggestDirective_CompletesCommandNames()
    {
        var (code, stdout, _) = await RunAsync("[suggest:13]", "clusterctl st");
        Assert.Equal(0, code);
        var suggestions = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("status", suggestions);
        Assert.Contains("start", suggestions);
        Assert.Contains("stop", suggestions);
    }

    [Fact]
    public async Task SuggestDirective_CompletesTheRemoteCommandsAndOptions()
    {
        var (_, commands, _) = await RunAsync("[suggest:13]", "clusterctl he");
        var (_, options, _) = await RunAsync("[suggest:14]", "clusterctl --ho");

        Assert.Contains("health", commands.Split('\n'));
        Assert.Contains("--host", options.Split('\n'));
    }

    [Fact]
    public async Task SuggestDirective_WithHost_OffersNoLocalGroupNames()
    {
        await using var daemon = new FakeDaemon(_ => new Clusterd.Protocol.Messages.Response { Ok = true, Cluster = StatusOutputTests.Snapshot });
        var line = $"clusterctl --socket {daemon.SocketPath} --host ssh://web1 status j";

        var (code, stdout, _) = await RunAsync($"[suggest:{line.Length}]", line);

        Assert.Equal(0, code);
        Assert.DoesNotContain("jobs", stdout.Split('\n'));
        Assert.Empty(daemon.Requests);
    }

    [Fact]
    public async Task SuggestDirective_CompletesGroupNamesFromTheDaemon()
    {
        await using var daemon = new FakeDaemon(_ => new Clusterd.Protocol.Messages.Response { Ok = true, Cluster = StatusOutputTests.Snapshot });
        var line = $"clusterctl --socket {daemon.SocketPath} status j";
        var (code, stdout, _) = await RunAsync($"[suggest:{line.Length}]", line);
        Assert.Equal(0, code);
        var suggestions = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("jobs", suggestions);
        Assert.DoesNotContain("web", suggestions);
    }

    [Fact]
    public async Task EventsFollow_CtrlC_StopsItAndExitsZero()
    {
        await using var daemon = new FakeDaemon(_ => StreamTests.Forever(new Clusterd.Protocol.Messages.Response
        {
            Ok = true,
            More = true,
            Events = [new Clusterd.Protocol.LifecycleEvent(1, DateTimeOffset.UnixEpoch, "fork", "web", 0, 42, 1)],
        }));
        using var process = Process.Start(StartInfo("events", "--follow", "--socket", daemon.SocketPath))!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var first = await process.StandardOutput.ReadLineAsync(timeout.Token);

        using (var kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync(timeout.Token);
        }
        await process.WaitForExitAsync(timeout.Token);

        Assert.StartsWith("1 ", first, StringComparison.Ordinal);
        Assert.Equal(0, process.ExitCode);
    }

    [Theory]
    [InlineData("bash", "[suggest:")]
    [InlineData("zsh", "compdef")]
    [InlineData("fish", "complete -c clusterctl")]
    public async Task Completion_PrintsAScriptForEachShell(string shell, string expected)
    {
        var (code, stdout, _) = await RunAsync("completion", shell);
        Assert.Equal(0, code);
        Assert.Contains(expected, stdout, StringComparison.Ordinal);
    }
}
