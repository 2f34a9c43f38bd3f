using Clusterd.Supervision;
using Microsoft.Extensions.Logging;

namespace Clusterd.Tests.Supervision;

public class SyslogPrefixTests
{
    [Theory]
    [InlineData("<3>disk full", "Error", "disk full")]
    [InlineData("<4>slow", "Warning", "slow")]
    [InlineData("<6>Now listening", "Information", "Now listening")]
    [InlineData("<7>x", "Debug", "x")]
    [InlineData("<0>boom", "Critical", "boom")]
    [InlineData("<9>not a priority", "Information", "<9>not a priority")]
    [InlineData("plain", "Information", "plain")]
    [InlineData("<6", "Information", "<6")]
    public void Parse_Line_MapsPriorityAndStripsPrefix(string line, string level, string text)
    {
        var parsed = SyslogPrefix.Parse(line, LogLevel.Information);

        Assert.Equal((Enum.Parse<LogLevel>(level), text), parsed);
    }
}
