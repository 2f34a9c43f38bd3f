using System.Text;
using Clusterd.Supervision;

namespace Clusterd.Tests.Supervision;

public class LineSplitterTests
{
    [Fact]
    public void Push_LinesAcrossChunks_ReassemblesThem()
    {
        var s = new LineSplitter(64);

        var first = s.Push("hel"u8);
        var second = s.Push("lo\r\nwor"u8);

        Assert.Empty(first);
        Assert.Equal(["hello"], second);
        Assert.Equal("wor", s.Flush());
        Assert.Null(s.Flush());
    }

    [Fact]
    public void Push_LineLongerThanLimit_ComesOutInPieces()
    {
        var s = new LineSplitter(4);

        var lines = s.Push(Encoding.UTF8.GetBytes("abcdefghij\n"));

        Assert.Equal(["abcd", "efgh", "ij"], lines);
    }
}
