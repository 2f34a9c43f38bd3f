using Clusterctl.Commands;

namespace Clusterctl.Tests;

public class LogSinceTests
{
    private static readonly DateTimeOffset s_now = new(2026, 11, 30, 17, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("30s", "2026-11-30T16:59:30Z")]
    [InlineData("10m", "2026-11-30T16:50:00Z")]
    [InlineData("2h", "2026-11-30T15:00:00Z")]
    [InlineData("1d", "2026-11-29T17:00:00Z")]
    [InlineData("2026-11-30T16:00:00Z", "2026-11-30T16:00:00Z")]
    [InlineData("2026-11-30T17:30:00+01:00", "2026-11-30T16:30:00Z")]
    public void TryParse_AgeOrTime_IsTheMomentToStartFrom(string text, string expected)
    {
        Assert.True(LogSince.TryParse(text, s_now, out var after));
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), after);
    }

    [Theory]
    [InlineData("")]
    [InlineData("10")]
    [InlineData("m")]
    [InlineData("-5m")]
    [InlineData("10w")]
    [InlineData("2026-11-30T16:00:00")] // no offset: another moment to clusterd than to the reader
    [InlineData("yesterday")]
    public void TryParse_Nonsense_IsRefused(string text)
    {
        Assert.False(LogSince.TryParse(text, s_now, out _));
    }
}
