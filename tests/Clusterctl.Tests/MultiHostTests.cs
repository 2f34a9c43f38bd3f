using System.Text.Json;
using Clusterd.Protocol.Messages;
using Clusterctl.Connection;

using ProtocolCommands = Clusterd.Protocol.Messages.Commands;

namespace Clusterctl.Tests;

/// <summary>
/// --host with a stand-in transport: each host is a <see cref="FakeDaemon"/> reached through
/// <see cref="CliContext.ConnectSsh"/>, so what is tested is the fan-out, the prefixes and the exit codes, not ssh.
/// </summary>
public sealed class MultiHostTests
{
    private static readonly StatusData s_one = new([StatusOutputTests.Snapshot.Groups[1]]);

    /// <summary>Runs a command line whose --host names are keys of <paramref name="daemons"/> (a missing key is an unreachable host).</summary>
    private static async Task<Cli.Result> RunAsync(Dictionary<string, FakeDaemon> daemons, params string[] args)
    {
        using var stdout = new StringWriter { NewLine = "\n" };
        using var stderr = new StringWriter { NewLine = "\n" };
        await using var cli = new CliContext(stdout, stderr, () => TextReader.Null, stdoutIsTerminal: false, stdinIsTerminal: false)
        {
            ConnectSsh = (host, timeout, _, ct) => daemons.TryGetValue(host.Host, out var daemon)
                ? Task.FromResult(DaemonConnection.Connect(daemon.SocketPath, timeout))
                : throw new CliException(ExitCodes.System, $"ssh to {host.Label} failed (exit 255): Connection refused"),
        };
        var code = await Cli.OffTheTestThread(() => Program.RunAsync(args, cli, CancellationToken.None));
        return new Cli.Result(code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task Status_TwoHosts_PrefixesEveryRowWithItsHostInTheOrderGiven()
    {
        await using var a = new FakeDaemon(_ => new Response { Ok = true, Cluster = s_one });
        await using var b = new FakeDaemon(_ => new Response { Ok = true, Cluster = s_one });

        var result = await RunAsync(new Dictionary<string, FakeDaemon> { ["web1"] = a, ["web22"] = b },
            "status", "--host", "ssh://web22", "--host", "ssh://root@web1:2222");

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        const string Group = """
            jobs  running  1/1 ready  generation 1
              SLOT  PID   STATE  UPTIME  RESTARTS  LAST-EXIT  CPU       RSS
              0     5120  ready  1d02h   0         -          3600.00s  1.2 GiB
            """;
        var expected = string.Concat(Group.Split('\n').Select(l => $"web22           {l}\n"))
            + string.Concat(Group.Split('\n').Select(l => $"root@web1:2222  {l}\n"));
        Assert.Equal(expected, result.Out);
        Assert.Equal("", result.Err);
    }

    [Fact]
    public async Task StatusJson_CommaList_EachObjectGainsItsHost()
    {
        await using var a = new FakeDaemon(_ => new Response { Ok = true, Cluster = s_one });

        var result = await RunAsync(new Dictionary<string, FakeDaemon> { ["web1"] = a, ["web2"] = a }, "status", "--json", "--host", "ssh://web1,ssh://web2");

        var lines = result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Equal(["web1", "web2"], lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("host").GetString()));
        Assert.All(lines, l => Assert.Equal("jobs", JsonDocument.Parse(l).RootElement.GetProperty("groups")[0].GetProperty("name").GetString()));
    }

    [Fact]
    public async Task Status_OneHostUnreachable_ExitsWithTheWorstCodeAndStillPrintsTheOther()
    {
        await using var a = new FakeDaemon(_ => new Response { Ok = true, Cluster = s_one });

        var result = await RunAsync(new Dictionary<string, FakeDaemon> { ["web1"] = a }, "status", "-H", "ssh://web1,ssh://down");

        Assert.Equal(ExitCodes.System, result.ExitCode);
        Assert.StartsWith("web1  jobs  running", result.Out, StringComparison.Ordinal);
        Assert.Equal("down  clusterctl: ssh to down failed (exit 255): Connection refused\n", result.Err);
    }

    [Fact]
    public async Task Health_OneHostUnhealthy_ExitsOne()
    {
        await using var healthy = new FakeDaemon(_ => new Response { Ok = true, Cluster = s_one });
        await using var degraded = new FakeDaemon(_ => new Response { Ok = true, Cluster = StatusOutputTests.Snapshot });

        var result = await RunAsync(new Dictionary<string, FakeDaemon> { ["web1"] = healthy, ["web2"] = degraded }, "health", "-H", "ssh://web1,ssh://web2");

        Assert.Equal(ExitCodes.No, result.ExitCode);
        Assert.Contains("web1  jobs   running  1/1    yes", result.Out, StringComparison.Ordinal);
        Assert.Contains("web2  web    degraded  2/3    no: 2 of 3 ready, 3 needed", result.Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("restart", "web")]
    [InlineData("scale", "web", "3")]
    [InlineData("stop", "web")]
    [InlineData("reload")]
    [InlineData("logs", "web", "--follow")]
    [InlineData("events", "-f")]
    public async Task ChangeOrFollow_SeveralHosts_IsRefusedBeforeAnyHostIsAsked(params string[] args)
    {
        await using var a = new FakeDaemon(_ => Response.Success(0));

        var result = await RunAsync(new Dictionary<string, FakeDaemon> { ["web1"] = a, ["web2"] = a }, [.. args, "--host", "ssh://web1,ssh://web2"]);

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("runs on one host at a time", result.Err, StringComparison.Ordinal);
        Assert.Empty(a.Requests);
    }

    [Fact]
    public async Task Restart_OneHost_GoesThroughTheTransport()
    {
        await using var a = new FakeDaemon(_ => Response.Success(0));

        var result = await RunAsync(new Dictionary<string, FakeDaemon> { ["web1"] = a }, "restart", "web", "--host", "ssh://web1");

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Equal(ProtocolCommands.Restart, a.Single().Command);
    }

    [Theory]
    [InlineData("web1", "'web1' is not an SSH address")]
    [InlineData("ssh://-oProxyCommand=x", "'ssh://-oProxyCommand=x': the host must be")]
    [InlineData("ssh://web1,tcp://web2", "'tcp://web2' is not an SSH address")]
    public async Task BadHost_ExitsUsageNamingIt(string host, string message)
    {
        var result = await RunAsync(new Dictionary<string, FakeDaemon>(), "status", "--host", host);

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains(message, result.Err, StringComparison.Ordinal);
        Assert.Contains("--help", result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Socket_WithHostAndShellCharacters_IsRefused()
    {
        var result = await RunAsync(new Dictionary<string, FakeDaemon>(), "status", "--host", "ssh://web1", "--socket", "/tmp/$(reboot).sock");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("cannot be passed to the far side", result.Err, StringComparison.Ordinal);
    }
}
