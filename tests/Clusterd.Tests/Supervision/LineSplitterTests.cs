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

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(64)]
    public void Push_AnyChunking_GivesTheLinesOfTheWholeStream(int seed)
    {
        var random = new Random(seed);
        var text = string.Concat(Enumerable.Range(0, 200).Select(_ => random.Next(6) switch
        {
            0 => "\n",
            1 => "\r\n",
            2 => "é",
            _ => new string((char)('a' + random.Next(26)), random.Next(1, 12)),
        }));
        var bytes = Encoding.UTF8.GetBytes(text);
        var s = new LineSplitter(8);
        var lines = new List<string>();

        for (var at = 0; at < bytes.Length;)
        {
            var length = Math.Min(random.Next(1, 30), bytes.Length - at);
            lines.AddRange(s.Push(bytes.AsSpan(at, length)));
            at += length;
        }
        if (s.Flush() is { } last)
        {
            lines.Add(last);
        }

        Assert.Equal(Expected(bytes, 8), lines);
    }

    /// <summary>Each line of the whole stream, cut into pieces of at most <paramref name="max"/> bytes, without a final "\r".</summary>
    private static List<string> Expected(byte[] stream, int max)
    {
        var lines = new List<string>();
        var pieces = stream.AsSpan();
        while (!pieces.IsEmpty)
        {
            var newline = pieces.IndexOf((byte)'\n');
            var line = newline < 0 ? pieces : pieces[..newline];
            do
            {
                var piece = line[..Math.Min(max, line.Length)];
                lines.Add(Encoding.UTF8.GetString(piece.EndsWith("\r"u8) ? piece[..^1] : piece));
                line = line[piece.Length..];
            }
            while (!line.IsEmpty);
            pieces = newline < 0 ? [] : pieces[(newline + 1)..];
        }
        return lines;
    }
}
