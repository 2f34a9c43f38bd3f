using Clusterd.Config;

namespace Clusterd.Tests.Config;

public class DurationTests
{
    [Theory]
    [InlineData("250ms", 250)]
    [InlineData("30s", 30_000)]
    [InlineData("5m", 300_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData("1h2m3s4ms", 3_723_004)]
    [InlineData("1.5s", 1_500)]
    [InlineData("0s", 0)]
    [InlineData("0", 0)]
    [InlineData(" 10s ", 10_000)]
    public void TryParse_Valid_ReturnsMilliseconds(string text, long milliseconds)
    {
        Assert.True(Duration.TryParse(text, out var value, out var error), error);
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    [Theory]
    [InlineData("", "the duration is empty")]
    [InlineData("-1s", "durations must not be negative (got \"-1s\")")]
    [InlineData("30", "\"30\" has no unit")]
    [InlineData("5d", "unknown unit 'd' in \"5d\" (units are ms, s, m, h)")]
    [InlineData("5 s", "\"5 s\" has no unit")]
    [InlineData("ms", "expected a number at \"ms\" in \"ms\"")]
    [InlineData("s", "expected a number at \"s\" in \"s\"")]
    [InlineData("1.2.3s", "\"1.2.3\" is not a number in \"1.2.3s\"")]
    [InlineData(".s", "\".\" is not a number in \".s\"")]
    public void TryParse_Invalid_ExplainsWhyAndHowToWriteIt(string text, string expected)
    {
        Assert.False(Duration.TryParse(text, out _, out var error));
        Assert.Equal($"{expected}; {Duration.Hint}", error);
    }

    [Theory]
    [InlineData("1000h1ms")]
    [InlineData("1001h")]
    [InlineData("60001m")]
    [InlineData("999h60m1s")]
    [InlineData("99999999999h")]
    [InlineData("10000000000000000000h")] // 1e19 h: number × ticks-per-hour overflowed decimal (security review §5)
    [InlineData("79228162514264337593543950335ms")] // decimal.MaxValue
    [InlineData("79228162514264337593543950336s")] // one more: decimal cannot hold the number at all
    [InlineData("1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h1h999h")]
    public void TryParse_LongerThanTheMaximum_NamesTheMaximum(string text)
    {
        Assert.False(Duration.TryParse(text, out var value, out var error));
        Assert.Equal(TimeSpan.Zero, value);
        Assert.Equal($"\"{text}\" is longer than the maximum, 1000h (a timer cannot wait longer); use a shorter duration", error);
    }

    [Theory]
    [InlineData("1000h")]
    [InlineData("60000m")]
    [InlineData("999h60m")]
    [InlineData("3600000s")]
    public void TryParse_ExactlyTheMaximum_IsAccepted(string text)
    {
        Assert.True(Duration.TryParse(text, out var value, out var error), error);
        Assert.Equal(Duration.Maximum, value);
    }

    [Fact]
    public void Maximum_FitsATimer()
    {
        // What TimeProvider/System.Threading.Timer accept: at most 0xfffffffe ms, or they throw.
        using var timer = TimeProvider.System.CreateTimer(_ => { }, null, Duration.Maximum, Timeout.InfiniteTimeSpan);

        Assert.True(Duration.Maximum.TotalMilliseconds <= uint.MaxValue - 1);
    }

    [Theory]
    [InlineData(0, "0s")]
    [InlineData(100, "100ms")]
    [InlineData(90_000, "1m30s")]
    [InlineData(93_600_000, "26h")]
    public void Format_Value_RoundTripsThroughTryParse(long milliseconds, string expected)
    {
        var text = Duration.Format(TimeSpan.FromMilliseconds(milliseconds));

        Assert.Equal(expected, text);
        Assert.True(Duration.TryParse(text, out var back, out _));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), back);
    }
}
