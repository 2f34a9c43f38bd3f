using Clusterctl.Connection;

namespace Clusterctl.Tests;

public sealed class SshHostTests
{
    [Theory]
    [InlineData("ssh://web1", null, "web1", null, "clusterctl", "web1")]
    [InlineData("ssh://admin@web1.example.com:2222", "admin", "web1.example.com", 2222, "clusterctl", "admin@web1.example.com:2222")]
    [InlineData("ssh://root@127.0.0.1", "root", "127.0.0.1", null, "clusterctl", "root@127.0.0.1")]
    [InlineData("ssh://[::1]:22", null, "::1", 22, "clusterctl", "[::1]:22")]
    [InlineData("ssh://ops@db_2?clusterctl=/opt/clusterd/bin/clusterctl", "ops", "db_2", null, "/opt/clusterd/bin/clusterctl", "ops@db_2")]
    public void TryParse_ValidAddress_SplitsItsParts(string text, string? user, string host, int? port, string clusterctl, string label)
    {
        Assert.True(SshHost.TryParse(text, out var parsed, out var error), error);
        Assert.Equal(new SshHost(user, host, port, clusterctl), parsed);
        Assert.Equal(label, parsed.Label);
    }

    [Theory]
    [InlineData("web1", "not an SSH address")]
    [InlineData("tcp://web1", "not an SSH address")]
    [InlineData("ssh://-oProxyCommand=touch${IFS}/tmp/x", "the host must be")]
    [InlineData("ssh://-web1", "the host must be")]
    [InlineData("ssh://.web1", "the host must be")]
    [InlineData("ssh://", "the host must be")]
    [InlineData("ssh://web1/path", "the host must be")]
    [InlineData("ssh://we b1", "the host must be")]
    [InlineData("ssh://web1;reboot", "the host must be")]
    [InlineData("ssh://[::1", "the host must be")]
    [InlineData("ssh://[::1]x", "the host must be")]
    [InlineData("ssh://-l@web1", "the user must be")]
    [InlineData("ssh://@web1", "the user must be")]
    [InlineData("ssh://a$(id)@web1", "the user must be")]
    [InlineData("ssh://web1:0", "the port must be")]
    [InlineData("ssh://web1:65536", "the port must be")]
    [InlineData("ssh://web1:ssh", "the port must be")]
    [InlineData("ssh://web1:-22", "the port must be")]
    [InlineData("ssh://web1?clusterctl=clusterctl;reboot", "?clusterctl=PATH")]
    [InlineData("ssh://web1?clusterctl=$(reboot)", "?clusterctl=PATH")]
    [InlineData("ssh://web1?clusterctl=-oops", "?clusterctl=PATH")]
    [InlineData("ssh://web1?clusterctl=", "?clusterctl=PATH")]
    [InlineData("ssh://web1?port=22", "?clusterctl=PATH")]
    public void TryParse_HostileOrMalformed_IsRefusedWithTheReason(string text, string reason)
    {
        Assert.False(SshHost.TryParse(text, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.Contains(text, error, StringComparison.Ordinal);
    }

    [Fact]
    public void SshArguments_EveryPart_IsOneArgvEntryAfterTheOptionsEnd()
    {
        Assert.True(SshHost.TryParse("ssh://ops@web1:2222?clusterctl=/usr/bin/clusterctl", out var host, out _));

        var argv = host.SshArguments(TimeSpan.FromMilliseconds(1500), "/run/clusterd/other.sock", "/tmp/ssh_config");

        Assert.Equal(
        [
            "-o", "BatchMode=yes", "-o", "ConnectTimeout=2", "-F", "/tmp/ssh_config", "-p", "2222", "-l", "ops",
            "--", "web1", "/usr/bin/clusterctl", "dial-stdio", "--socket", "/run/clusterd/other.sock",
        ], argv);
    }

    [Fact]
    public void SshArguments_Defaults_LeaveUserPortAndConfigToSsh()
    {
        Assert.True(SshHost.TryParse("ssh://web1", out var host, out _));

        var argv = host.SshArguments(TimeSpan.FromSeconds(5), remoteSocket: null, config: null);

        Assert.Equal(["-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "--", "web1", "clusterctl", "dial-stdio"], argv);
    }

    [Theory]
    [InlineData("/run/clusterd/clusterd.sock", true)]
    [InlineData("/tmp/a b.sock", false)]
    [InlineData("/tmp/$HOME.sock", false)]
    [InlineData("-x", false)]
    [InlineData("", false)]
    public void IsShellSafePath_OnlyPlainPathCharacters(string path, bool safe) => Assert.Equal(safe, SshHost.IsShellSafePath(path));
}
