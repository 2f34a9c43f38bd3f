using System.Globalization;

namespace Clusterd.Config;

/// <summary>
/// Parses durations written as strings such as <c>"250ms"</c>, <c>"30s"</c>, <c>"5m"</c>, <c>"1h"</c> or <c>"1m30s"</c>.
/// A bare number is ambiguous (seconds? milliseconds?), so only <c>"0"</c> is accepted without a unit.
/// </summary>
internal static class Duration
{
    public const string Hint = "use a string like \"250ms\", \"30s\" or \"5m\"";

    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="error"/> says what is wrong (without the fix hint).</summary>
    public static bool TryParse(string text, out TimeSpan value, out string error)
    {
        value = TimeSpan.Zero;
        error = "";
        var s = text.Trim();
        if (s.Length == 0)
        {
            error = "the duration is empty";
            return false;
        }
        if (s == "0")
        {
            return true;
        }
        if (s[0] == '-')
        {
            error = $"durations must not be negative (got \"{text}\")";
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
                error = $"expected a number at \"{s[i..]}\" in \"{text}\"";
                return false;
            }
            if (!decimal.TryParse(s.AsSpan(numberStart, i - numberStart), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                error = $"\"{s[numberStart..i]}\" is not a number in \"{text}\"";
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
                error = $"\"{text}\" has no unit";
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
                error = $"unknown unit '{unit}' in \"{text}\" (units are ms, s, m, h)";
                return false;
            }
            ticks += number * ticksPerUnit;
            if (ticks > TimeSpan.MaxValue.Ticks)
            {
                error = $"\"{text}\" is too long";
                return false;
            }
        }

        value = TimeSpan.FromTicks((long)decimal.Round(ticks));
        return true;
    }

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
