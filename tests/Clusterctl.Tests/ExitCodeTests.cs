using System.Net.Sockets;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;

namespace Clusterctl.Tests;

/// <summary>The exit codes are a contract (docs/clusterctl.md): 0 ok, 1 no, 100 usage, 101 bug, 111 system.</summary>
public sealed class ExitCodeTests
{
    [Theory]
    [InlineData("status", "--bogus")]
    [InlineData("bogus")]
    [InlineData("scale", "web")]
    [InlineData("scale", "web", "many")]
    [InlineData("scale", "web", "-1")]
    [InlineData("signal", "web/x", "HUP")]
    [InlineData("signal", "/2", "HUP")]
    [InlineData("signal", "web", "SIG-HUP")]
    [InlineData("restart")]
    [InlineData("restart", "web", "--max-surge", "-1")]
    [InlineData("events", "--since", "abc")]
    [InlineData("restart", "web", "--max-surge", "lots")]
    [InlineData("logs", "web", "-n", "x")]
    [InlineData("logs", "web", "-n", "-3")]
    [InlineData("completion", "powershell")]
    [InlineData("status", "--timeout", "soon")]
    [InlineData]
    public async Task BadCommandLine_ExitsUsage(params string[] args)
    {
        var result = await Cli.RunAsync(args);
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("--help", result.Err, StringComparison.Ordinal);
        Assert.Equal("", result.Out);
    }

    [Fact]
    public async Task MissingSocket_ExitsSystemNamingThePath()
    {
        var path = Path.Combine(Path.GetTempPath(), $"clusterctl-missing-{Guid.NewGuid():N}.sock");
        var result = await Cli.RunAsync("status", "--socket", path);
        Assert.Equal(ExitCodes.System, result.ExitCode);
        Assert.Contains(path, result.Err, StringComparison.Ordinal);
        Assert.Contains("is clusterd running? try --socket", result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StaleSocketFile_ConnectionRefused_ExitsSystem()
    {
        var directory = Directory.CreateTempSubdirectory("clusterctl-test-").FullName;
        var path = Path.Combine(directory, "stale.sock");
        try
        {
            // Bound but not listening: the file exists and connect() is refused, as with a socket a crashed clusterd left
            // behind. (Disposing a .NET socket unlinks its file, so it stays open for the test.)
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Bind(new UnixDomainSocketEndPoint(path));
            var result = await Cli.RunAsync("ping", "--socket", path);
            Assert.Equal(ExitCodes.System, result.ExitCode);
            Assert.Contains(path, result.Err, StringComparison.Ordinal);
            Assert.Contains("refused", result.Err, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task SymlinkToTheSocket_ExitsSystemWithoutConnecting()
    {
        await using var daemon = new FakeDaemon(_ => Response.Success(0, "pong"));
        var link = daemon.SocketPath + ".link";
        File.CreateSymbolicLink(link, daemon.SocketPath);
        var result = await Cli.RunAsync("ping", "--socket", link);
        Assert.Equal(ExitCodes.System, result.ExitCode);
        Assert.Contains($"not talking to {link}: it is a symbolic link", result.Err, StringComparison.Ordinal);
        Assert.Equal(0, daemon.Connections);
    }

    [Fact]
    public async Task SocketFromEnvironment_IsUsedWithoutFlag()
    {
        await using var daemon = new FakeDaemon(_ => Response.Success(0, "pong"));
        var saved = Environment.GetEnvironmentVariable(SocketPaths.EnvironmentVariable);
        Environment.SetEnvironmentVariable(SocketPaths.EnvironmentVariable, daemon.SocketPath);
        try
        {
            var result = await Cli.RunAsync("ping");
            Assert.Equal(0, result.ExitCode);
        }
        finally
        {
            Environment.SetEnvironmentVariable(SocketPaths.EnvironmentVariable, saved);
        }
    }

    [Fact]
    public async Task DaemonError_ExitsNoWithItsMessage()
    {
        await using var daemon = new FakeDaemon(r => Response.Failure(r.Id, ErrorCodes.NotFound, "no group 'db'"));
        var result = await Cli.RunAsync("stop", "db", "--socket", daemon.SocketPath);
        Assert.Equal(ExitCodes.No, result.ExitCode);
        Assert.Equal("clusterctl: no group 'db' (not_found)\n", result.Err);
        Assert.Equal("", result.Out);
    }

    [Fact]
    public async Task PermissionDenied_SaysWhoAndHowToGetAccess()
    {
        await using var daemon = new FakeDaemon(r => Response.Failure(r.Id, ErrorCodes.PermissionDenied, "scale needs admin_group"));
        var result = await Cli.RunAsync("scale", "web", "3", "--socket", daemon.SocketPath);
        Assert.Equal(ExitCodes.No, result.ExitCode);
        Assert.Contains("permission denied: you are uid ", result.Err, StringComparison.Ordinal);
        Assert.Contains("[control] admin_group/read_group", result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RestartFailure_ExitsNoWithReason()
    {
        await using var daemon = new FakeDaemon(Frames(
            new Response { Ok = true, More = true, Message = "web/0 replaced (generation 4)" },
            Response.Failure(0, ErrorCodes.Failed, "rollout of web stopped: web/1 did not become ready within 30s")));
        var result = await Cli.RunAsync("restart", "web", "--socket", daemon.SocketPath);
        Assert.Equal(ExitCodes.No, result.ExitCode);
        Assert.Equal("web/0 replaced (generation 4)\n", result.Out);
        Assert.Contains("did not become ready within 30s", result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RestartSuccess_PrintsProgressThenResult()
    {
        await using var daemon = new FakeDaemon(Frames(
            new Response { Ok = true, More = true, Message = "web/0 replaced" },
            new Response { Ok = true, Message = "web restarted: generation 4, 2/2 ready" }));
        var result = await Cli.RunAsync("restart", "web", "--socket", daemon.SocketPath);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("web/0 replaced\nweb restarted: generation 4, 2/2 ready\n", result.Out);
    }

    [Fact]
    public async Task DaemonHangsUpWithoutAnswer_ExitsSystem()
    {
        await using var daemon = new FakeDaemon(_ => HangUp());
        var result = await Cli.RunAsync("status", "--socket", daemon.SocketPath);
        Assert.Equal(ExitCodes.System, result.ExitCode);
        Assert.Contains(daemon.SocketPath, result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NotAClusterdSocket_ExitsSystem() =>
        await AssertStrangerExitsSystem("HTTP/1.1 400 Bad Request\r\n\r\n"u8.ToArray(), "bad magic");

    [Fact]
    public async Task AFrameThatIsNotAResponse_ExitsSystemSayingSo() =>
        await AssertStrangerExitsSystem(Framing.Encode("""{"id":1,"ok":"yes"}"""u8), "malformed response: ");

    /// <summary>JSON that reads as a status but could not be shown: a malformed answer, not a bug in clusterctl.</summary>
    [Theory]
    [InlineData("""{"groups":null}""", "the list of groups is null")]
    [InlineData("""{"groups":[null]}""", "a group, its name, listen or workers is null")]
    [InlineData("""{"groups":[{"state":"running","listen":[],"workers":[]}]}""", "a group, its name, listen or workers is null")]
    [InlineData("""{"groups":[{"name":"web","state":"running","listen":[null],"workers":[]}]}""", "a group, its name, listen or workers is null")]
    [InlineData("""{"groups":[{"name":"web","state":"running","listen":[]}]}""", "a group, its name, listen or workers is null")]
    [InlineData("""{"groups":[{"name":"web","state":99,"listen":[],"workers":[]}]}""", "a group's state has no name")]
    [InlineData("""{"groups":[{"name":"web","state":"running","listen":[],"workers":[null]}]}""", "a worker is null, or its state has no name")]
    [InlineData("""{"groups":[{"name":"web","state":"running","listen":[],"workers":[{"slot":0,"state":"-1"}]}]}""", "a worker is null, or its state has no name")]
    public async Task StatusThatCannotBeShown_ExitsSystemSayingSo(string cluster, string expectedError)
    {
        var answer = Framing.Encode(System.Text.Encoding.UTF8.GetBytes($$"""{"id":1,"ok":true,"cluster":{{cluster}}}"""));
        await AssertStrangerExitsSystem(answer, $"malformed response: {expectedError}", "status");
    }

    /// <summary>A peer on the socket that answers any request with <paramref name="answer"/> and closes.</summary>
    private static async Task AssertStrangerExitsSystem(byte[] answer, string expectedError, string command = "ping")
    {
        var directory = Directory.CreateTempSubdirectory("clusterctl-test-").FullName;
        var path = Path.Combine(directory, "other.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var server = Task.Run(async () =>
        {
            using var peer = await listener.AcceptAsync();
            // Take the request first and close only after the client has: closing with unread input would reset
            // the connection, and the client might see the reset instead of the stranger's answer.
            await peer.ReceiveAsync(new byte[4096]);
            await peer.SendAsync(answer);
            peer.Shutdown(SocketShutdown.Send);
            try
            {
                while (await peer.ReceiveAsync(new byte[4096]) > 0)
                {
                }
            }
            catch (SocketException)
            {
                // The client stops reading after the bad answer and closes with ours unread: a reset, as expected.
            }
        });
        try
        {
            var result = await Cli.RunAsync(command, "--socket", path);
            Assert.Equal(ExitCodes.System, result.ExitCode);
            Assert.Contains(expectedError, result.Err, StringComparison.Ordinal);
            await server;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>The fake closes a connection whose answer throws, as a crashing daemon would.</summary>
    internal static async IAsyncEnumerable<Response> HangUp()
    {
        await Task.Yield();
        throw new IOException("hang up");
#pragma warning disable CS0162 // An iterator needs a yield to be one; this one exists only to throw.
        yield break;
#pragma warning restore CS0162
    }

    internal static Func<Request, IAsyncEnumerable<Response>> Frames(params Response[] frames) => _ => Yield(frames);

    private static async IAsyncEnumerable<Response> Yield(Response[] frames)
    {
        foreach (var frame in frames)
        {
            await Task.Yield();
            yield return frame;
        }
    }
}
