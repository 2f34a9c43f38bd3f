using System.Text;

namespace Clusterctl.Output;

/// <summary>The text of one cell: written into <paramref name="scratch"/>, or any other text (a name, a constant).</summary>
internal delegate ReadOnlySpan<char> CellText<in TRow>(TRow row, int column, Span<char> scratch);

/// <summary>
/// Left-aligned columns separated by two spaces, like ps and kubectl: easy to read and to cut with awk. Widths come from
/// the plain text; an optional colour wraps a cell afterwards, so colour never breaks alignment.
/// </summary>
internal static class TableRenderer
{
    private const string Gap = "  ";
    // The text is written in pieces of about this many characters, through one reused buffer: a whole 1000-row table
    // built first was ~200 KB of fresh memory, and each new page of it a page fault (~50 us on a small VM), which cost
    // more than the dozen write(2)s that pieces of this size take instead.
    internal const int PieceChars = 8 * 1024;
    /// <summary>Holds any number the cells show, a double in full included (~310 digits).</summary>
    internal const int ScratchChars = 512;

    /// <summary>
    /// Writes the headers and a line per row. Each cell's text is asked for twice, for the widths and then to write it,
    /// rather than kept: 1000 rows of cells as strings were ~250 KB of fresh memory, a page fault per 4 KiB.
    /// </summary>
    /// <param name="color">(row, column) → the SGR sequence to show that cell in, or null.</param>
    public static void Write<TRow>(TextWriter writer, IReadOnlyList<string> headers, IReadOnlyList<TRow> rows, CellText<TRow> cell,
        string indent = "", Func<TRow, int, string?>? color = null)
    {
        Span<char> scratch = stackalloc char[ScratchChars];
        var widths = new int[headers.Count];
        for (var c = 0; c < headers.Count; c++)
        {
            widths[c] = headers[c].Length;
            foreach (var row in rows)
            {
                widths[c] = Math.Max(widths[c], cell(row, c, scratch).Length);
            }
        }
        var text = new StringBuilder(2 * PieceChars);
        AppendLine(text, writer.NewLine, indent, widths, headers, static (names, column, _) => names[column], null, scratch);
        foreach (var row in rows)
        {
            AppendLine(text, writer.NewLine, indent, widths, row, cell, color, scratch);
            if (text.Length >= PieceChars)
            {
                writer.Write(text);
                text.Clear();
            }
        }
        writer.Write(text);
    }

    private static void AppendLine<TRow>(StringBuilder text, string newLine, string indent, int[] widths, TRow row, CellText<TRow> cell,
        Func<TRow, int, string?>? color, Span<char> scratch)
    {
        text.Append(indent);
        for (var c = 0; c < widths.Length; c++)
        {
            AppendCell(text, cell(row, c, scratch), c == widths.Length - 1 ? 0 : widths[c], color?.Invoke(row, c));
        }
        text.Append(newLine);
    }

    /// <param name="width">0 for the last column: trailing spaces make golden files and copy-paste worse.</param>
    private static void AppendCell(StringBuilder text, ReadOnlySpan<char> cell, int width, string? sgr)
    {
        if (string.IsNullOrEmpty(sgr))
        {
            text.Append(cell);
        }
        else
        {
            text.Append(sgr).Append(cell).Append(Ansi.Reset);
        }
        if (width > 0)
        {
            text.Append(' ', width - cell.Length).Append(Gap);
        }
    }
}
