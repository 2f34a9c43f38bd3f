using System.Globalization;
using System.Text;

namespace Clusterd.Config;

/// <summary>
/// One located configuration problem. <see cref="Line"/> and <see cref="Column"/> are 1-based, so the
/// <c>FILE:LINE:COL: message</c> form is what editors and compilers use for "jump to error".
/// </summary>
internal sealed record ConfigError(string File, int Line, int Column, string Message)
{
    /// <summary>
    /// One line, whatever the file held: control characters that a quoted key or value brings into the message (a
    /// newline, an ESC) are written as TOML escapes, so errors stay one per line on a terminal and in clusterctl.
    /// </summary>
    public string Message { get; } = OneLine(Message);

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{File}:{Line}:{Column}: {Message}");

    private static string OneLine(string message)
    {
        if (!message.Any(NeedsEscape))
        {
            return message;
        }
        var escaped = new StringBuilder(message.Length + 16);
        foreach (var c in message)
        {
            var escape = c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when NeedsEscape(c) => string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}"),
                _ => null,
            };
            if (escape is null)
            {
                escaped.Append(c);
            }
            else
            {
                escaped.Append(escape);
            }
        }
        return escaped.ToString();
    }

    private static bool NeedsEscape(char c) => char.IsControl(c) || c is '\u2028' or '\u2029';
}
