using Clusterd.Protocol;
using Clusterd.Protocol.Messages;
using Clusterctl.Connection;

using ProtocolCommands = Clusterd.Protocol.Messages.Commands;

namespace Clusterctl.Tests;

/// <summary>SshStream with a shell script standing in for ssh: real processes, real pipes, exit codes chosen by the test.</summary>
public sealed class SshStreamTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("clusterctl-ssh-").FullName;
    private readonly SshHost _host = new("ops", "web1", 2222, "clusterctl");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>An executable "ssh" that runs <paramref name="body"/> (sh) and so exits as the test says.</summary>
    private string FakeSsh(string body)
    {
        var path = Path.Combine(_directory, "ssh");
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private async Task<SshFailureException> PingFailsAsync(string fakeSsh)
    {
        await using var client = ControlClient.Over(SshStream.Start(_host, TimeSpan.FromSeconds(5), remoteSocket: null, fakeSsh));
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        return await Assert.ThrowsAsync<SshFailureException>(() => client.RequestAsync(new Request { Command = ProtocolCommands.Ping }, deadline.Token));
    }

    [Fact]
    public async Task SshFails_Exit255_ErrorEndsWithItsLastStderrLine()
    {
        var error = await PingFailsAsync(FakeSsh("""
            echo "debug1: Reading configuration data" >&2
            echo "ssh: connect to host web1 port 2222: Connection refused" >&2
            echo "" >&2
            exit 255
            """));

        Assert.Equal("ssh to ops@web1:2222 failed (exit 255): ssh: connect to host web1 port 2222: Connection refused", error.Message);
    }

    [Theory]
    [InlineData(127, "bash: line 1: clusterctl: command not found",
        "ops@web1:2222 has no 'clusterctl' (exit 127: bash: line 1: clusterctl: command not found); install clusterd there, or give its path: ssh://ops@web1:2222?clusterctl=/usr/bin/clusterctl")]
    [InlineData(100, "clusterctl: Unrecognized command or argument 'dial-stdio'.",
        "the clusterctl on ops@web1:2222 does not know 'dial-stdio' (exit 100: clusterctl: Unrecognized command or argument 'dial-stdio'.); install the same clusterd release there")]
    [InlineData(111, "clusterctl: cannot connect to clusterd at /run/clusterd/clusterd.sock: no such socket",
        "clusterctl dial-stdio on ops@web1:2222 exited with 111: clusterctl: cannot connect to clusterd at /run/clusterd/clusterd.sock: no such socket")]
    public async Task RemoteSideFails_ExitCode_IsExplainedWithWhatToDo(int exitCode, string stderr, string message)
    {
        var error = await PingFailsAsync(FakeSsh($"echo \"{stderr}\" >&2; exit {exitCode}"));

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public async Task Start_PassesEachArgumentAsItsOwnArgvEntry()
    {
        var recorded = Path.Combine(_directory, "argv");
        await PingFailsAsync(FakeSsh($"printf '%s\\n' \"$@\" > {recorded}; exit 255"));

        Assert.Equal(
            _host.SshArguments(TimeSpan.FromSeconds(5), remoteSocket: null, config: Environment.GetEnvironmentVariable(SshHost.ConfigEnvironmentVariable) is { Length: > 0 } c ? c : null),
            await File.ReadAllLinesAsync(recorded));
    }

    [Fact]
    public void Start_NoSshProgram_ExitsSystemSayingWhatToInstall()
    {
        var error = Assert.Throws<CliException>(() => SshStream.Start(_host, TimeSpan.FromSeconds(5), null, Path.Combine(_directory, "no-ssh-here")));

        Assert.Equal(ExitCodes.System, error.ExitCode);
        Assert.Contains("cannot run", error.Message, StringComparison.Ordinal);
        Assert.Contains("openssh-client", error.Message, StringComparison.Ordinal);
    }
}
