using System.Runtime.Versioning;
using System.Text;
using Clusterd.Platform;

namespace Clusterd.Tests.Platform;

[SupportedOSPlatform("linux")] // /proc
public sealed class ProcessSessionTests
{
    [Fact]
    public void TryParseSession_CommWithSpacesAndParentheses_CountsFromTheLastParenthesis()
    {
        var line = Encoding.ASCII.GetBytes("4242 (a) b (c)) S 4200 4242 4100 34817 4242 4194560 120 0 0 0 0 0 0 0 20 0 1 0 42 0 0\n");

        Assert.True(ProcessSession.TryParseSession(line, out var session));

        Assert.Equal(4100, session);
    }

    [Theory]
    [InlineData("4242 (sh) S 4200")]
    [InlineData("4242 sh S 4200 4242 4100")]
    [InlineData("4242 (sh) S 4200 4242 x41 0")]
    public void TryParseSession_CutOffOrGarbled_IsNoReading(string line)
    {
        Assert.False(ProcessSession.TryParseSession(Encoding.ASCII.GetBytes(line), out _));
    }

    [Fact]
    public void Of_ThisProcess_IsItsSession()
    {
        var stat = File.ReadAllText("/proc/self/stat");
        var expected = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[3], System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(expected, ProcessSession.Of(Environment.ProcessId));
    }

    [Fact]
    public void Of_NoSuchProcess_IsZero()
    {
        Assert.Equal(0, ProcessSession.Of(int.MaxValue));
    }
}
