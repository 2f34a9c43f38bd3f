using System.Buffers;
using System.Globalization;
using System.Text.Unicode;

namespace Clusterd.Config;

/// <summary>
/// What must hold of the file's bytes before TOML is parsed: a sane size, and UTF-8. Decoding with replacement (as
/// <c>File.ReadAllText</c> does) would turn a stray Latin-1 byte into U+FFFD silently, so "café" would become another
/// user name or path instead of an error.
/// </summary>
internal static class ConfigText
{
    /// <summary>A real config is a few KiB; the cap keeps a wrong path (a log, /dev/zero) from being read whole.</summary>
    public const int MaxBytes = 1024 * 1024;

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    /// <summary>
    /// Decodes <paramref name="bytes"/> (a leading BOM is dropped, as editors write one); on failure
    /// <paramref name="error"/> is located at the offending byte.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, out string text, out SourcePosition position, out string error)
    {
        text = "";
        position = SourcePosition.Start;
        if (bytes.Length > MaxBytes)
        {
            error = $"the file is larger than {MaxBytes / 1024 / 1024} MiB, the most clusterd reads; a config is a few KiB, so check that this is the config file";
            return false;
        }
        if (bytes.StartsWith(Utf8Bom))
        {
            bytes = bytes[Utf8Bom.Length..];
        }
        var chars = ArrayPool<char>.Shared.Rent(Math.Max(1, bytes.Length));
        try
        {
            var status = Utf8.ToUtf16(bytes, chars, out var read, out var written, replaceInvalidSequences: false);
            if (status != OperationStatus.Done)
            {
                position = PositionOf(bytes, read);
                error = string.Create(CultureInfo.InvariantCulture,
                    $"invalid UTF-8 (byte 0x{bytes[read]:X2}); clusterd reads the config as UTF-8 only, so save the file as UTF-8");
                return false;
            }
            text = new string(chars, 0, written);
            error = "";
            return true;
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    /// <summary>
    /// Where arrays and inline tables first nest deeper than <paramref name="max"/>, or null. Tomlyn refuses such a
    /// file with an exception that carries no position, so this scan finds it: it skips comments and strings, and
    /// does not count the brackets of table headers (<c>[a]</c>, <c>[[a]]</c>), which do not nest.
    /// </summary>
    public static SourcePosition? FindNestingDeeperThan(string text, int max)
    {
        var depth = 0;
        var inValue = false; // at depth 0: after a key's '=' on this line, so a '[' opens an array, not a header
        for (var i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '#':
                    var endOfLine = text.IndexOf('\n', i);
                    i = (endOfLine < 0 ? text.Length : endOfLine) - 1;
                    break;
                case '"' or '\'':
                    i = EndOfString(text, i);
                    break;
                case '\n' when depth == 0:
                    inValue = false;
                    break;
                case '=' when depth == 0:
                    inValue = true;
                    break;
                case '[' or '{' when depth > 0 || inValue:
                    if (++depth > max)
                    {
                        return PositionOf(text, i);
                    }
                    break;
                case ']' or '}' when depth > 0:
                    depth--;
                    break;
            }
        }
        return null;
    }

    /// <summary>The index of the last character of the string that opens at <paramref name="start"/>.</summary>
    private static int EndOfString(string text, int start)
    {
        var quote = text[start];
        var delimiter = new string(quote, text.AsSpan(start).StartsWith([quote, quote, quote]) ? 3 : 1);
        var escapes = quote == '"'; // 'literal' strings have none
        for (var i = start + delimiter.Length; i < text.Length; i++)
        {
            if (escapes && text[i] == '\\')
            {
                i++;
            }
            else if (delimiter.Length == 1 && text[i] == '\n')
            {
                return i - 1; // unterminated: Tomlyn reports it; the newline still ends the line here
            }
            else if (text.AsSpan(i).StartsWith(delimiter, StringComparison.Ordinal))
            {
                return i + delimiter.Length - 1;
            }
        }
        return text.Length - 1;
    }

    /// <summary>Line and column of a character, in code points like Tomlyn's (a surrogate pair is one column).</summary>
    private static SourcePosition PositionOf(string text, int index)
    {
        var before = text.AsSpan(0, index);
        var lineStart = before.LastIndexOf('\n') + 1;
        var column = 1;
        foreach (var c in before[lineStart..])
        {
            if (!char.IsLowSurrogate(c))
            {
                column++;
            }
        }
        return new SourcePosition(before.Count('\n') + 1, column);
    }

    /// <summary>
    /// Line and column of <paramref name="offset"/>, counted as Tomlyn counts them: lines by '\n', columns in code points
    /// (every byte that is not a UTF-8 continuation byte starts one). The bytes before <paramref name="offset"/> are valid.
    /// </summary>
    private static SourcePosition PositionOf(ReadOnlySpan<byte> bytes, int offset)
    {
        var before = bytes[..offset];
        var lineStart = before.LastIndexOf((byte)'\n') + 1;
        var column = 1;
        foreach (var b in before[lineStart..])
        {
            if ((b & 0xC0) != 0x80)
            {
                column++;
            }
        }
        return new SourcePosition(before.Count((byte)'\n') + 1, column);
    }
}
