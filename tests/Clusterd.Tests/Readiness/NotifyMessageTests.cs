using System.Text;
using Clusterd.Readiness;

namespace Clusterd.Tests.Readiness;

public sealed class NotifyMessageTests
{
    private static NotifyMessage Parse(string datagram)
    {
        Assert.True(NotifyMessage.TryParse(Encoding.UTF8.GetBytes(datagram), out var message));
        return message;
    }

    [Fact]
    public void TryParse_Ready_SetsReadyOnly()
    {
        Assert.Equal(new NotifyMessage(Ready: true, false, false, false, null), Parse("READY=1"));
    }

    [Fact]
    public void TryParse_SeveralLines_ReadsEveryAssignment()
    {
        var message = Parse("READY=1\nSTATUS=serving 3 clients\nWATCHDOG=1\nSTOPPING=1\n");

        Assert.Equal(new NotifyMessage(Ready: true, Stopping: true, WatchdogPing: true, WatchdogTrigger: false, "serving 3 clients"), message);
    }

    [Fact]
    public void TryParse_WatchdogTrigger_IsNotAPing()
    {
        var message = Parse("WATCHDOG=trigger");

        Assert.True(message.WatchdogTrigger);
        Assert.False(message.WatchdogPing);
    }

    [Theory]
    [InlineData("READY=0")]
    [InlineData("READY=1x")]
    [InlineData("READY")]
    [InlineData("ready=1")]
    [InlineData(" READY=1")]
    public void TryParse_NotExactlyReadyOne_IsNotReady(string datagram)
    {
        Assert.False(Parse(datagram).Ready);
    }

    [Fact]
    public void TryParse_TwoStatuses_TheLastWins()
    {
        Assert.Equal("second", Parse("STATUS=first\nSTATUS=second").Status);
    }

    [Fact]
    public void TryParse_EmptyStatus_ClearsIt()
    {
        Assert.Equal("", Parse("STATUS=").Status);
    }

    [Fact]
    public void TryParse_OnlyAssignmentsClusterdDoesNotActOn_IsEmpty()
    {
        Assert.True(Parse("MAINPID=42\nBARRIER=1\nFDSTORE=1\nRELOADING=1").IsEmpty);
    }

    [Fact]
    public void TryParse_NulByte_IsRefusedWhole()
    {
        Assert.False(NotifyMessage.TryParse("READY=1\0\nSTATUS=x"u8, out var message));
        Assert.True(message.IsEmpty);
    }

    [Fact]
    public void TryParse_StatusNotUtf8_IsIgnoredAndTheRestKept()
    {
        byte[] datagram = [.. "READY=1\nSTATUS="u8, 0xC3, 0x28];

        Assert.True(NotifyMessage.TryParse(datagram, out var message));

        Assert.True(message.Ready);
        Assert.Null(message.Status);
    }

    [Fact]
    public void Then_FoldsEveryRequestAndKeepsTheLatestStatus()
    {
        var first = Parse("READY=1\nSTATUS=starting");
        var second = Parse("WATCHDOG=1\nSTATUS=serving");

        var folded = first.Then(second);

        Assert.Equal(new NotifyMessage(Ready: true, Stopping: false, WatchdogPing: true, WatchdogTrigger: false, "serving"), folded);
    }

    [Fact]
    public void Then_LaterWithoutStatus_KeepsTheEarlierStatus()
    {
        Assert.Equal("serving", Parse("STATUS=serving").Then(Parse("WATCHDOG=1")).Status);
    }

    [Fact]
    public void ToString_LongStatus_IsCutShort()
    {
        var text = Parse("READY=1\nSTATUS=" + new string('x', 500)).ToString();

        Assert.StartsWith("READY=1 STATUS=xxx", text, StringComparison.Ordinal);
        Assert.True(text.Length < 120, text);
    }
}
