using System.Globalization;

namespace Clusterd.Config;

/// <summary>Sizes written as strings with a binary unit: <c>"512MiB"</c>, <c>"1.5GiB"</c>, <c>"64KiB"</c>.</summary>
internal static class ByteSize
{
    public const string Hint = "use a string like \"512MiB\" or \"2GiB\" (units KiB, MiB, GiB)";

    /// <summary>1 TiB: far beyond a worker's memory, and far within a long.</summary>
    public const long Maximum = 1L << 40;

    public static bool TryParse(string text, out long bytes, out string error)
    {
        bytes = 0;
        var s = text.Trim();
        var unitStart = s.Length;
        while (unitStart > 0 && char.IsAsciiLetter(s[unitStart - 1]))
        {
            unitStart--;
        }
        var unit = s[unitStart..];
        long multiplier = unit switch
        {
            "KiB" => 1L << 10,
            "MiB" => 1L << 20,
            "GiB" => 1L << 30,
            _ => 0,
        };
        if (multiplier == 0)
        {
            error = unit.Length == 0
                ? $"\"{text}\" has no unit; {Hint}"
                : $"unknown unit '{unit}' in \"{text}\"; {Hint} (binary units: 1 MiB is 1048576 bytes)";
            return false;
        }
        if (!decimal.TryParse(s.AsSpan(0, unitStart), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
        {
            error = $"\"{text}\" is not a number followed by a unit; {Hint}";
            return false;
        }
        if (number > Maximum / multiplier)
        {
            error = $"\"{text}\" is more than the maximum of 1024GiB";
            return false;
        }
        bytes = (long)decimal.Round(number * multiplier);
        error = "";
        return true;
    }

    /// <summary>The largest unit that writes it whole, e.g. <c>512MiB</c>, for messages and plans.</summary>
    public static string Format(long bytes) =>
        bytes % (1L << 30) == 0 ? $"{bytes >> 30}GiB"
        : bytes % (1L << 20) == 0 ? $"{bytes >> 20}MiB"
        : bytes % (1L << 10) == 0 ? $"{bytes >> 10}KiB"
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.###}MiB");
}
