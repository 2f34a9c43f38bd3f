using System.Globalization;

namespace Clusterctl.Commands;

/// <summary><c>clusterctl logs --since</c>: an age back from now (<c>30s</c>, <c>10m</c>, <c>2h</c>, <c>1d</c>) or an RFC 3339 time.</summary>
internal static class LogSince
{
    public static bool TryParse(string text, DateTimeOffset now, out DateTimeOffset after)
    {
        after = default;
        if (text.Length >= 2 && char.IsAsciiDigit(text[0]) && text[^1] is 's' or 'm' or 'h' or 'd'
            && int.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            var unit = text[^1] switch { 's' => TimeSpan.FromSeconds(1), 'm' => TimeSpan.FromMinutes(1), 'h' => TimeSpan.FromHours(1), _ => TimeSpan.FromDays(1) };
            after = now - (unit * amount);
            return true;
        }
        // A time needs its offset (Z or +01:00): a local time would mean another moment to clusterd than to the reader.
        return text.Contains('T', StringComparison.Ordinal) && (text.EndsWith('Z') || text.LastIndexOfAny(['+', '-']) > text.IndexOf('T', StringComparison.Ordinal))
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out after);
    }
}
