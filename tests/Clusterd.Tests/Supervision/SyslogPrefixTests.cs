using Clusterd.Supervision;
using Microsoft.Extensions.Logging;

namespace Clusterd.Tests.Supervision;

public class SyslogPrefixTests
{
    [Theory]
    [InlineData("<3>disk full", 3, "disk full")]
    [InlineData("<4>slow", 4, "slow")]
    [InlineData("<6>Now listening", 6, "Now listening")]
    [InlineData("<7>x", 7, "x")]
    [InlineData("<0>boom", 0, "boom")]
    [InlineData("<9>not a priority", 6, "<9>not a priority")]
    [InlineData("plain", 6, "plain")]
    [InlineData("<6", 6, "<6")]
    public void ParsePriority_Line_ReadsPriorityAndStripsPrefix(string line, int priority, string text)
    {
        var parsed = SyslogPrefix.ParsePriority(line, fallback: 6);

        Assert.Equal((priority, text), parsed);
    }

    [Theory]
    [InlineData(0, LogLevel.Critical)]
    [InlineData(2, LogLevel.Critical)]
    [InlineData(3, LogLevel.Error)]
    [InlineData(4, LogLevel.Warning)]
    [InlineData(5, LogLevel.Information)]
    [InlineData(6, LogLevel.Information)]
    [InlineData(7, LogLevel.Debug)]
    public void Level_Priority_MapsToLogLevel(int priority, LogLevel level)
    {
        Assert.Equal(level, SyslogPrefix.Level(priority));
    }
}
