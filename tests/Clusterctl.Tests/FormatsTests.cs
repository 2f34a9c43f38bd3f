using Clusterctl.Output;

namespace Clusterctl.Tests;

public sealed class FormatsTests
{
    [Theory]
    [InlineData(null, "-")]
    [InlineData(0.4, "0s")]
    [InlineData(59.9, "59s")]
    [InlineData(192.0, "3m12s")]
    [InlineData(7500.0, "2h05m")]
    [InlineData(93784.0, "1d02h")]
    public void Uptime_TwoLargestUnits(double? seconds, string expected) => Assert.Equal(expected, Formats.Uptime(seconds, new char[TableRenderer.ScratchChars]).ToString());

    [Theory]
    [InlineData(null, "-")]
    [InlineData(512L, "512 B")]
    [InlineData(1536L, "1.5 KiB")]
    [InlineData(25_270_000L, "24.1 MiB")]
    [InlineData(1_288_490_189L, "1.2 GiB")]
    public void Bytes_BinaryUnits(long? bytes, string expected) => Assert.Equal(expected, Formats.Bytes(bytes, new char[TableRenderer.ScratchChars]).ToString());

    [Theory]
    [InlineData(null, null, null, "-")]
    [InlineData("exited", 0, null, "exited(0)")]
    [InlineData("crashed", null, 9, "crashed(SIGKILL)")]
    [InlineData("stopped", null, null, "stopped")]
    [InlineData(null, null, 64, "exited(64)")]
    public void LastExit_ReasonWithCodeOrSignal(string? reason, int? code, int? signal, string expected) =>
        Assert.Equal(expected, Formats.LastExit(reason, code, signal));

    [Theory]
    [InlineData("5", 5000)]
    [InlineData("5s", 5000)]
    [InlineData("500ms", 500)]
    [InlineData("1.5s", 1500)]
    [InlineData("1m", 60000)]
    public void TryParseDuration_Accepts(string text, double milliseconds)
    {
        Assert.True(GlobalOptions.TryParseDuration(text, out var value));
        Assert.Equal(milliseconds, value.TotalMilliseconds);
    }

    [Theory]
    [InlineData("")]
    [InlineData("soon")]
    [InlineData("-1s")]
    [InlineData("0")]
    public void TryParseDuration_Rejects(string text) => Assert.False(GlobalOptions.TryParseDuration(text, out _));

    [Theory]
    [InlineData("web", "web", null)]
    [InlineData("web/2", "web", 2)]
    public void GroupTarget_Parses(string text, string group, int? slot)
    {
        Assert.True(Commands.GroupTarget.TryParse(text, out var target, out _));
        Assert.Equal(new Commands.GroupTarget(group, slot), target);
    }
}
