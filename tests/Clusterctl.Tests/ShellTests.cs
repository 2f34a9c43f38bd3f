using System.CommandLine;
using Clusterd.Protocol.Messages;
using Clusterctl.Shell;

namespace Clusterctl.Tests;

public sealed class ShellTests
{
    [Fact]
    public async Task Shell_PipedCommands_RunInOrderOverOneConnection()
    {
        await using var daemon = new FakeDaemon(r => r.Command switch
        {
            "status" => new Response { Ok = true, Cluster = StatusOutputTests.Snapshot },
            "ping" => Response.Success(r.Id, "pong"),
            _ => Response.Failure(r.Id, "unknown_command", "?"),
        });
        var result = await Cli.RunWithInputAsync("status\nping\nexit\nping\n", CancellationToken.None, "--socket", daemon.SocketPath, "shell");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("web  degraded  2/3 ready", result.Out, StringComparison.Ordinal);
        Assert.Contains("pong from " + daemon.SocketPath, result.Out, StringComparison.Ordinal);
        // exit stops reading: the last ping is never sent.
        Assert.Equal(["status", "ping"], daemon.Requests.Select(r => r.Command));
        Assert.Equal(1, daemon.Connections);
        Assert.Equal("", result.Err);
    }

    [Fact]
    public async Task Shell_ErrorsAndUsageMistakes_DoNotEndTheSession()
    {
        await using var daemon = new FakeDaemon(r => r.Command == "stop"
            ? Response.Failure(r.Id, "not_found", "no group 'db'")
            : Response.Success(r.Id, "pong"));
        var result = await Cli.RunWithInputAsync("stop db\nscale\nbogus\n\n# a comment\nping\n", CancellationToken.None, "shell", "--socket", daemon.SocketPath);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("no group 'db'", result.Err, StringComparison.Ordinal);
        Assert.Contains("Try 'clusterctl scale --help'", result.Err, StringComparison.Ordinal);
        Assert.Contains("pong", result.Out, StringComparison.Ordinal);
        Assert.Equal(["stop", "ping"], daemon.Requests.Select(r => r.Command));
    }

    [Fact]
    public async Task Shell_EndOfInput_Leaves()
    {
        var result = await Cli.RunWithInputAsync("help\n", CancellationToken.None, "shell", "--socket", "/nonexistent/clusterd.sock");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("status", result.Out, StringComparison.Ordinal);
        Assert.Contains("Exit codes:", result.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("  shell ", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Shell_ConnectionBreaks_ReconnectsForTheNextCommand()
    {
        await using var daemon = new FakeDaemon(r => r.Command == "status" ? ExitCodeTests.HangUp() : One(Response.Success(r.Id, "pong")));
        var result = await Cli.RunWithInputAsync("status\nping\n", CancellationToken.None, "shell", "--socket", daemon.SocketPath);
        Assert.Contains(daemon.SocketPath, result.Err, StringComparison.Ordinal);
        Assert.Contains("pong", result.Out, StringComparison.Ordinal);
        Assert.Equal(2, daemon.Connections);
    }

    [Fact]
    public async Task Shell_RefusedACommand_ReconnectsForTheNextBecauseClusterdClosedTheConnection()
    {
        await using var daemon = new FakeDaemon(r => r.Command == "scale"
            ? Response.Failure(r.Id, "permission_denied", "uid 1000 may not run 'scale'")
            : Response.Success(r.Id, "pong"));
        var result = await Cli.RunWithInputAsync("scale web 2\nping\n", CancellationToken.None, "shell", "--socket", daemon.SocketPath);
        Assert.Contains("permission denied", result.Err, StringComparison.Ordinal);
        Assert.Contains("pong", result.Out, StringComparison.Ordinal);
        Assert.Equal(2, daemon.Connections);
    }

    private static async IAsyncEnumerable<Response> One(Response response)
    {
        await Task.Yield();
        yield return response;
    }

    [Fact]
    public void Complete_CommandNamesAndCachedGroups()
    {
        using var stdout = new StringWriter();
        var cli = new CliContext(stdout, stdout, () => TextReader.Null, false, false) { KeepConnection = true, CachedGroups = ["web", "worker", "jobs"] };
        var root = Program.BuildRootCommand(cli, includeShell: false);
        Assert.Equal(["scale"], InteractiveShell.Complete(root, "sc", 2));
        Assert.Equal(["web", "worker"], InteractiveShell.Complete(root, "status w", 8));
        Assert.Equal(["all", "jobs", "web", "worker"], InteractiveShell.Complete(root, "restart ", 8));
        Assert.Contains("exit", InteractiveShell.Complete(root, "", 0));
    }
}
