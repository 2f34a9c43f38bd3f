using System.Globalization;
using System.Text;
using Clusterctl.Output;

namespace Clusterctl.Tests;

public sealed class TableRendererTests
{
    [Fact]
    public void Write_ThousandsOfRows_WritesTheWholeTableInPiecesOfBoundedSize()
    {
        var rows = new List<string[]>();
        var expected = new StringBuilder("SLOT  STATE\n");
        for (var slot = 0; slot < 3000; slot++)
        {
            var cell = slot.ToString(CultureInfo.InvariantCulture);
            rows.Add([cell, "ready"]);
            expected.Append(cell).Append(' ', 4 - cell.Length).Append("  ready\n");
        }
        using var writer = new RecordingWriter { NewLine = "\n" };

        TableRenderer.Write(writer, ["SLOT", "STATE"], rows, (row, column, _) => row[column]);

        Assert.Equal(expected.ToString(), writer.ToString());
        // A few writes, not one per row (stdout flushes after each) nor one of the whole table (all of it fresh memory).
        Assert.InRange(writer.Writes.Count, 2, expected.Length / 1000);
        Assert.All(writer.Writes, length => Assert.InRange(length, 1, TableRenderer.PieceChars + "2999  ready\n".Length));
    }

    /// <summary>Keeps the length of every write it is given.</summary>
    private sealed class RecordingWriter : StringWriter
    {
        public List<int> Writes { get; } = [];

        public override void Write(StringBuilder? value)
        {
            Writes.Add(value?.Length ?? 0);
            base.Write(value);
        }

        public override void Write(string? value)
        {
            Writes.Add(value?.Length ?? 0);
            base.Write(value);
        }

        public override void Write(ReadOnlySpan<char> buffer)
        {
            Writes.Add(buffer.Length);
            base.Write(buffer);
        }
    }
}
