using Microsoft.Extensions.Logging;

namespace Clusterd.Supervision;

/// <summary>
/// Reads the "&lt;N&gt;" syslog priority prefix that sd-daemon style programs put on their lines (journald's
/// SyslogLevelPrefix=yes). .NET's systemd console format, for one, writes "&lt;6&gt;" before every line.
/// </summary>
internal static class SyslogPrefix
{
    public static (LogLevel Level, string Text) Parse(string line, LogLevel fallback)
    {
        if (line.Length < 3 || line[0] != '<' || line[2] != '>' || line[1] is < '0' or > '7')
        {
            return (fallback, line);
        }
        var level = line[1] switch
        {
            <= '2' => LogLevel.Critical, // emerg, alert, crit
            '3' => LogLevel.Error,
            '4' => LogLevel.Warning,
            '5' or '6' => LogLevel.Information, // notice, info
            _ => LogLevel.Debug,
        };
        return (level, line[3..]);
    }
}
