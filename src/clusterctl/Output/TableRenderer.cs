namespace Clusterctl.Output;

/// <summary>
/// Left-aligned columns separated by two spaces, like ps and kubectl: easy to read and to cut with awk. Widths come from
/// the plain text; an optional painter colours a cell afterwards, so colour never breaks alignment.
/// </summary>
internal sealed class TableRenderer(IReadOnlyList<string> headers)
{
    private const string Gap = "  ";
    // The text is written in pieces of about this many characters, through one reused buffer: a whole 1000-row table
    // built first was ~200 KB of fresh memory, and each new page of it a page fault (~50 us on a small VM), which cost
    // more than the dozen write(2)s that pieces of this size take instead.
    internal const int PieceChars = 8 * 1024;
    private readonly List<string[]> _rows = [];

    public int RowCount => _rows.Count;

    public void AddRow(params string[] cells)
    {
        if (cells.Length != headers.Count)
        {
            throw new ArgumentException($"a row has {cells.Length} cells but the table has {headers.Count} columns", nameof(cells));
        }
        _rows.Add(cells);
    }

    /// <param name="painter">(column, text) → text with escape codes, or null for none.</param>
    /// <remarks>
    /// Rows are written a piece of ~8 K characters at a time, not each on its own: stdout flushes after every call, and a
    /// table can be 1000 rows.
    /// </remarks>
    public void Write(TextWriter writer, string indent = "", Func<int, string, string>? painter = null)
    {
        var widths = new int[headers.Count];
        for (var c = 0; c < headers.Count; c++)
        {
            widths[c] = Math.Max(headers[c].Length, _rows.Count == 0 ? 0 : _rows.Max(r => r[c].Length));
        }
        var text = new System.Text.StringBuilder(2 * PieceChars);
        AppendLine(text, writer.NewLine, indent, [.. headers], widths, null);
        foreach (var row in _rows)
        {
            AppendLine(text, writer.NewLine, indent, row, widths, painter);
            if (text.Length >= PieceChars)
            {
                writer.Write(text);
                text.Clear();
            }
        }
        writer.Write(text);
    }

    private static void AppendLine(System.Text.StringBuilder text, string newLine, string indent, string[] cells, int[] widths,
        Func<int, string, string>? painter)
    {
        text.Append(indent);
        for (var c = 0; c < cells.Length; c++)
        {
            var cell = cells[c];
            var last = c == cells.Length - 1;
            text.Append(painter is null ? cell : painter(c, cell));
            if (!last)
            {
                // No padding after the last column: trailing spaces make golden files and copy-paste worse.
                text.Append(' ', widths[c] - cell.Length).Append(Gap);
            }
        }
        text.Append(newLine);
    }
}
