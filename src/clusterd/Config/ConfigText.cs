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
