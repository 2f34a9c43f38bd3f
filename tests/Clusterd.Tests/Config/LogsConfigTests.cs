using Clusterd.Config;

namespace Clusterd.Tests.Config;

public class LogsConfigTests
{
    [Theory]
    [InlineData(1000, "1000/s, burst 5")]
    [InlineData(0.5, "30/m, burst 5")]
    [InlineData(1.0 / 3600, "1/h, burst 5")]
    public void Describe_RateBelowOneASecond_UsesTheUnitThatShowsIt(double linesPerSecond, string expected)
    {
        Assert.Equal(expected, new LogRateLimit(linesPerSecond, Burst: 5).Describe());
    }
}
