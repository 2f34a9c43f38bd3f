using System.Globalization;

namespace Clusterd.Config;

/// <summary>
/// Parses durations written as strings such as <c>"250ms"</c>, <c>"30s"</c>, <c>"5m"</c>, <c>"1h"</c> or <c>"1m30s"</c>.
/// A bare number is ambiguous (seconds? milliseconds?), so only <c>"0"</c> is accepted without a unit.
/// </summary>
internal static class Duration
{
    public const string Hint = "use a string like \"250ms\", \"30s\" or \"5m\"";

    /// <summary>
    /// The longest duration the config accepts. Every duration ends up as a timer, and .NET timers hold at most
    /// 4294967294 ms (about 49.7 days, 1193h); 1000h is the round figure below that, and leaves room for the sums the
    /// host makes (the shutdown timeout is the longest stop_timeout plus 15s).
    /// </summary>
    public static readonly TimeSpan Maximum = TimeSpan.FromHours(1000);

    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="error"/> says what is wrong and how to fix it.</summary>
    public static bool TryParse(string text, out TimeSpan value, out string error)
    {
        value = TimeSpan.Zero;
        error = "";
        var s = text.Trim();
        if (s.Length == 0)
        {
            error = $"the duration is empty; {Hint}";
            return false;
        }
        if (s == "0")
        {
            return true;
        }
        if (s[0] == '-')
        {
            error = $"durations must not be negative (got \"{text}\"); {Hint}";
            return false;
        }

        decimal ticks = 0;
        var i = 0;
        while (i < s.Length)
        {
            var numberStart = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.'))
            {
                i++;
            }
            if (i == numberStart)
            {
                error = $"expected a number at \"{s[i..]}\" in \"{text}\"; {Hint}";
                return false;
            }
            var digits = s.AsSpan(numberStart, i - numberStart);
            if (digits.Count('.') > 1 || digits is ".")
            {
                error = $"\"{digits}\" is not a number in \"{text}\"; {Hint}";
                return false;
            }
            // With at most one '.', the only way decimal.TryParse fails is a number beyond decimal's 7.9e28.
            if (!decimal.TryParse(digits, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                error = TooLong(text);
                return false;
            }

            var unitStart = i;
            while (i < s.Length && char.IsAsciiLetter(s[i]))
            {
                i++;
            }
            var unit = s[unitStart..i];
            if (unit.Length == 0)
            {
                error = $"\"{text}\" has no unit; {Hint}";
                return false;
            }
            var ticksPerUnit = unit switch
            {
                "ms" => TimeSpan.TicksPerMillisecond,
                "s" => TimeSpan.TicksPerSecond,
                "m" => TimeSpan.TicksPerMinute,
                "h" => TimeSpan.TicksPerHour,
                _ => 0L,
            };
            if (ticksPerUnit == 0)
            {
                error = $"unknown unit '{unit}' in \"{text}\" (units are ms, s, m, h); {Hint}";
                return false;
            }
            // Compare before multiplying: the product of two huge decimals overflows (an exception, not a config error).
            if (number > (Maximum.Ticks - ticks) / ticksPerUnit)
            {
                error = TooLong(text);
                return false;
            }
            ticks += number * ticksPerUnit;
        }

        value = TimeSpan.FromTicks((long)decimal.Round(ticks));
        return true;
    }

    private static string TooLong(string text) =>
        $"\"{text}\" is longer than the maximum, {Format(Maximum)} (a timer cannot wait longer); use a shorter duration";

    /// <summary>Formats a duration the way the config accepts it, e.g. <c>1m30s</c>, for messages and docs.</summary>
    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero)
        {
            return "0s";
        }
        var parts = new System.Text.StringBuilder();
        if (value.Days * 24 + value.Hours > 0)
        {
            parts.Append(CultureInfo.InvariantCulture, $"{(value.Days * 24) + value.Hours}h");
        }
        if (value.Minutes > 0)
        {
            parts.Append(CultureInfo.InvariantCulture, $"{value.Minutes}m");
        }
        if (value.Seconds > 0)
        {
            parts.Append(CultureInfo.InvariantCulture, $"{value.Seconds}s");
        }
        if (value.Milliseconds > 0)
        {
            parts.Append(CultureInfo.InvariantCulture, $"{value.Milliseconds}ms");
        }
        return parts.Length == 0 ? "0s" : parts.ToString();
    }
}
