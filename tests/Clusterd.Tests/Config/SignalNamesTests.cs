using Clusterd.Config;

namespace Clusterd.Tests.Config;

public class SignalNamesTests
{
    [Theory]
    [InlineData("SIGTERM", 15, 15)]
    [InlineData("INT", 2, 2)]
    [InlineData("QUIT", 3, 3)]
    [InlineData("HUP", 1, 1)]
    [InlineData("KILL", 9, 9)]
    [InlineData("USR1", 10, 30)]
    [InlineData("USR2", 12, 31)]
    [InlineData("WINCH", 28, 28)]
    public void TryParse_KnownName_ReturnsThisOsNumber(string name, int linux, int macOS)
    {
        Assert.True(SignalNames.TryParse(name, out var number, out var canonical));
        Assert.Equal(OperatingSystem.IsMacOS() ? macOS : linux, number);
        Assert.StartsWith("SIG", canonical, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("SIGFOO")]
    [InlineData("15")]
    public void TryParse_UnknownName_ReturnsFalse(string name) =>
        Assert.False(SignalNames.TryParse(name, out _, out _));
}
