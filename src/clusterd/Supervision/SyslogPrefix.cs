using Microsoft.Extensions.Logging;

namespace Clusterd.Supervision;

/// <summary>
/// Reads the "&lt;N&gt;" syslog priority prefix that sd-daemon style programs put on their lines (journald's
/// SyslogLevelPrefix=yes). .NET's systemd console format, for one, writes "&lt;6&gt;" before every line.
/// </summary>
internal static class SyslogPrefix
{
    /// <summary>The syslog priority (0 emerg .. 7 debug) and the text after the prefix; <paramref name="fallback"/> without one.</summary>
    public static (int Priority, string Text) ParsePriority(string line, int fallback) =>
        line.Length < 3 || line[0] != '<' || line[2] != '>' || line[1] is < '0' or > '7'
            ? (fallback, line)
            : (line[1] - '0', line[3..]);

    public static LogLevel Level(int priority) => priority switch
    {
        <= 2 => LogLevel.Critical, // emerg, alert, crit
        3 => LogLevel.Error,
        4 => LogLevel.Warning,
        5 or 6 => LogLevel.Information, // notice, info
        _ => LogLevel.Debug,
    };
}
