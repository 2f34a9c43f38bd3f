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
    [InlineData("99999999999h", "\"99999999999h\" is too long")]
    public void TryParse_Invalid_ExplainsWhy(string text, string expected)
    {
        Assert.False(Duration.TryParse(text, out _, out var error));
        Assert.Equal(expected, error);
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
