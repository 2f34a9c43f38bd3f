using System.Globalization;
using System.Runtime.Versioning;

namespace Clusterd.Platform;

internal static partial class ProcessStats
{
    // proc(5) field numbers, 1-based, counted from the pid.
    private const int UtimeField = 14;
    private const int StimeField = 15;
    private const int RssField = 24;

    // The first field after "(comm)" is field 3, the state.
    private const int FirstFieldAfterComm = 3;

    private static long s_clockTicks; // 0 until first read; a race only reads sysconf twice

    [SupportedOSPlatform("linux")]
    private static bool TryReadLinux(int pid, out ProcessStat stat)
    {
        stat = default;
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // exited between the snapshot and this read, or hidden by hidepid
        }
        if (s_clockTicks == 0)
        {
            s_clockTicks = ReadClockTicks();
        }
        return TryParseStat(text, s_clockTicks, Environment.SystemPageSize, out stat);
    }

    /// <summary>
    /// Parses one /proc/PID/stat line. comm (field 2) is in parentheses and may itself contain spaces and ')',
    /// so fields are counted from the last ')'. Internal for tests.
    /// </summary>
    internal static bool TryParseStat(string text, long clockTicks, long pageSize, out ProcessStat stat)
    {
        stat = default;
        var close = text.LastIndexOf(')');
        if (close < 0 || clockTicks <= 0)
        {
            return false;
        }
        var fields = text[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length <= RssField - FirstFieldAfterComm
            || !ulong.TryParse(fields[UtimeField - FirstFieldAfterComm], NumberStyles.None, CultureInfo.InvariantCulture, out var utime)
            || !ulong.TryParse(fields[StimeField - FirstFieldAfterComm], NumberStyles.None, CultureInfo.InvariantCulture, out var stime)
            || !long.TryParse(fields[RssField - FirstFieldAfterComm], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var rssPages))
        {
            return false;
        }
        stat = new ProcessStat((utime + stime) / (double)clockTicks, Math.Max(0, rssPages) * pageSize);
        return true;
    }

    /// <summary>USER_HZ: 100 on every Linux architecture .NET runs on, but sysconf is the documented source.</summary>
    [SupportedOSPlatform("linux")]
    private static long ReadClockTicks()
    {
        var ticks = Interop.sysconf(Interop.SC_CLK_TCK);
        return ticks > 0 ? ticks : 100;
    }
}
