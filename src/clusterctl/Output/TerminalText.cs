using System.Globalization;
using System.Text;

namespace Clusterctl.Output;

/// <summary>
/// Text that a worker controls (its output lines, its STATUS=) or that merely passes through clusterd reaches an
/// operator's terminal with its control characters made visible. A raw ESC from a log line could retitle the window,
/// move the cursor, hide or rewrite what came before, or (on some terminals) make the terminal type an answer into the
/// operator's shell. So C0 controls except TAB, DEL, the C1 controls U+0080-U+009F (which some terminals also obey) and
/// Unicode's bidirectional overrides and isolates (which reorder what is shown) are written as <c>\xHH</c> or <c>\uHHHH</c>.
/// Backslashes stay as they are: the escapes are for a human reading, and paths with backslashes are common in logs.
/// Only for a terminal: piped or redirected output, and <c>--json</c>, keep every byte as the worker wrote it, so a
/// file of logs is what the worker wrote (and <c>less -R</c> still shows its colours).
/// </summary>
internal static class TerminalText
{
    /// <summary><paramref name="text"/> as a terminal may safely show it when <paramref name="terminal"/>, else unchanged.</summary>
    public static string Shown(string text, bool terminal) => terminal ? Escape(text) : text;

    public static string Escape(string text)
    {
        var first = text.AsSpan().IndexOfAny(s_unsafe);
        if (first < 0)
        {
            return text;
        }
        var escaped = new StringBuilder(text.Length + 16).Append(text, 0, first);
        foreach (var c in text.AsSpan(first))
        {
            if (!s_unsafe.Contains(c))
            {
                escaped.Append(c);
            }
            else if (c <= '\u00ff')
            {
                escaped.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
            }
            else
            {
                escaped.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
        }
        return escaped.ToString();
    }

    private static readonly System.Buffers.SearchValues<char> s_unsafe = System.Buffers.SearchValues.Create(Unsafe());

    private static string Unsafe()
    {
        var chars = new StringBuilder();
        for (var c = '\u0000'; c < ' '; c++)
        {
            if (c != '\t')
            {
                chars.Append(c);
            }
        }
        for (var c = '\u007f'; c <= '\u009f'; c++)
        {
            chars.Append(c);
        }
        return chars.Append("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069").ToString();
    }
}
