using System.Text;
using Clusterd.Platform;
using Clusterd.Supervision.Health;

namespace Clusterd.Tests.Supervision.Health;

public class CommandCheckTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(1500);

    private static int Exit(int code) => code << 8;

    [Fact]
    public void Judge_ExitZeroInTime_Passes() =>
        Assert.Null(CommandCheck.Judge(null, Exit(0), timedOut: false, Timeout, "all good"));

    [Theory]
    [InlineData(1, "", "exit code 1")]
    [InlineData(2, "db down", "exit code 2; output: db down")]
    public void Judge_NonZeroExit_FailsWithTheCodeAndOutput(int code, string output, string why) =>
        Assert.Equal(why, CommandCheck.Judge(null, Exit(code), timedOut: false, Timeout, output));

    [Fact]
    public void Judge_EndedBySignal_FailsNamingIt() =>
        Assert.Equal("killed by signal 11", CommandCheck.Judge(null, 11, timedOut: false, Timeout, ""));

    [Fact]
    public void Judge_TimedOut_FailsEvenIfTheKillLooksLikeAnExit() =>
        Assert.Equal("no exit within 1.5s; killed; output: waiting", CommandCheck.Judge(null, Signals.SIGKILL, timedOut: true, Timeout, "waiting"));

    [Fact]
    public void Judge_HelperCouldNotExecIt_FailsWithTheHelpersReason() =>
        Assert.Equal("cannot run the check: 'nope' not found on PATH /bin",
            CommandCheck.Judge(new ExecFailure(ExecHelper.ExitExec, 2, "'nope' not found on PATH /bin"), Exit(ExecHelper.ExitExec), false, Timeout, ""));

    [Fact]
    public void OutputTail_ShortOutput_IsKeptWhole_LinesJoined()
    {
        var tail = new OutputTail(64);
        tail.Append("first line\r\n\n"u8);
        tail.Append("  second  \n"u8);

        Assert.Equal("first line | second", tail.ToString());
    }

    [Fact]
    public void OutputTail_MoreThanCapacity_InSmallWrites_KeepsTheEnd()
    {
        var tail = new OutputTail(8);
        foreach (var c in "abcdefghijklmnopqrstuvwxyz")
        {
            tail.Append([(byte)c]);
        }

        Assert.Equal("...stuvwxyz", tail.ToString());
    }

    [Fact]
    public void OutputTail_OneWriteLargerThanCapacity_KeepsItsEnd()
    {
        var tail = new OutputTail(4);
        tail.Append("ab"u8);
        tail.Append("0123456789"u8);

        Assert.Equal("...6789", tail.ToString());
    }

    [Fact]
    public void OutputTail_CutWithinACharacter_DropsItsRemainingBytes()
    {
        var tail = new OutputTail(3);
        tail.Append(Encoding.UTF8.GetBytes("x\u00e9\u00e9")); // 78 C3 A9 C3 A9: the last 3 start inside the first é

        Assert.Equal("...\u00e9", tail.ToString());
    }

    [Fact]
    public void OutputTail_Nothing_IsEmpty() => Assert.Equal("", new OutputTail(16).ToString());
}
