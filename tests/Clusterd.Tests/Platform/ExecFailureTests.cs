using Clusterd.Platform;

namespace Clusterd.Tests.Platform;

/// <summary>The helper's failure line, and which failures may pass by themselves. Errno values are Linux's.</summary>
public sealed class ExecFailureTests
{
    [Fact]
    public void Parse_HelperLine_IsExitCodeErrnoAndTheRest()
    {
        var failure = ExecFailure.Parse("203 2 'my app' not found on PATH /usr/bin:/bin\n");

        Assert.Equal(new ExecFailure(203, 2, "'my app' not found on PATH /usr/bin:/bin"), failure);
    }

    [Theory]
    [InlineData("")]
    [InlineData("203")]
    [InlineData("203 2")]
    [InlineData("x 2 message")]
    [InlineData("-1 2 message")]
    [InlineData("203 +2 message")]
    public void Parse_AnythingElse_IsASetupFailureWithNoErrno_KeepingTheText(string text)
    {
        var failure = ExecFailure.Parse(text);

        Assert.Equal((ExecHelper.ExitSetup, 0), (failure.ExitCode, failure.Errno));
        Assert.Contains($"'{text}'", failure.Message, StringComparison.Ordinal);
        Assert.False(failure.Transient);
    }

    [Theory]
    [InlineData(11, true)]  // EAGAIN
    [InlineData(12, true)]  // ENOMEM
    [InlineData(23, true)]  // ENFILE
    [InlineData(24, true)]  // EMFILE
    [InlineData(26, true)]  // ETXTBSY
    [InlineData(0, false)]
    [InlineData(1, false)]  // EPERM
    [InlineData(2, false)]  // ENOENT
    [InlineData(13, false)] // EACCES
    [InlineData(71, false)] // EPROTO
    public void IsTransient_OnlyWhatCanPassByItself(int errno, bool transient)
    {
        Assert.Equal(transient, ExecFailure.IsTransient(errno));
        Assert.Equal(transient, new ExecFailure(203, errno, "").Transient);
    }
}
