using System.Globalization;
using System.Buffers.Text;
using System.Runtime.Versioning;

namespace Clusterd.Platform;

internal static partial class ProcessStats
{
    // proc(5) field numbers, 1-based, counted from the pid.
    private const int UtimeField = 14;
    private const int StimeField = 15;
    private const int StartTimeField = 22;
    private const int RssField = 24;

    // The first field after "(comm)" is field 3, the state.
    private const int FirstFieldAfterComm = 3;

    // A stat line is ~300 bytes. Even with every number at its 20-digit maximum and a 64-byte comm, the fields up to
    // rss end well before 1 KiB, so one read into this buffer always holds them (the rest of the line may be cut off).
    private const int StatBufferSize = 1024;

    private static long s_clockTicks; // 0 until first read; a race only reads sysconf twice

    /// <remarks>
    /// `status` and every scrape read this once per worker, so it is one open and one read into a stack buffer, parsed
    /// in place: no FileStream, StreamReader or strings, whose buffers cost more than the kernel's work at 1000 workers.
    /// </remarks>
    [SupportedOSPlatform("linux")]
    private static bool TryReadLinux(int pid, out ProcessStat stat)
    {
        stat = default;
        Span<byte> line = stackalloc byte[StatBufferSize];
        var length = ProcStatFile.Read(pid, line);
        if (length < 0)
        {
            return false; // exited between the snapshot and this read, or hidden by hidepid
        }
        if (s_clockTicks == 0)
        {
            s_clockTicks = ReadClockTicks();
        }
        return TryParseStat(line[..length], s_clockTicks, Environment.SystemPageSize, out stat);
    }

    /// <summary>
    /// Parses one /proc/PID/stat line. comm (field 2) is in parentheses and may itself contain spaces and ')',
    /// so fields are counted from the last ')'. Internal for tests.
    /// </summary>
    internal static bool TryParseStat(ReadOnlySpan<byte> line, long clockTicks, long pageSize, out ProcessStat stat)
    {
        stat = default;
        if (clockTicks <= 0
            || !TryParseWhole(Field(line, UtimeField), out var utime)
            || !TryParseWhole(Field(line, StimeField), out var stime)
            || !TryParseWhole(Field(line, RssField), out var rssPages))
        {
            return false;
        }
        stat = new ProcessStat((utime + stime) / (double)clockTicks, Math.Max(0, rssPages) * pageSize);
        return true;
    }

    /// <summary>
    /// When the process started, in clock ticks after boot (proc(5) field 22). With its pid it names one process for as
    /// long as the machine runs, where a pid alone is soon another's (pid_max is 32768 on many machines); an exec keeps both.
    /// </summary>
    [SupportedOSPlatform("linux")]
    public static bool TryReadStartTicks(int pid, out long ticks)
    {
        ticks = 0;
        Span<byte> line = stackalloc byte[StatBufferSize];
        var length = ProcStatFile.Read(pid, line);
        return length >= 0 && TryParseWhole(Field(line[..length], StartTimeField), out ticks);
    }

    /// <summary>Field <paramref name="number"/> (1-based, as proc(5) counts) of a stat line; empty if the line has none.</summary>
    private static ReadOnlySpan<byte> Field(ReadOnlySpan<byte> line, int number)
    {
        var close = line.LastIndexOf((byte)')');
        if (close < 0)
        {
            return default;
        }
        var fields = line[(close + 1)..];
        var field = FirstFieldAfterComm;
        foreach (var range in fields.Split((byte)' '))
        {
            var text = fields[range];
            if (text.IsEmpty)
            {
                continue; // the space right after ')'
            }
            if (field++ == number)
            {
                return text;
            }
        }
        return default;
    }

    /// <summary>A decimal that is the whole field (an empty or cut-off field is no reading).</summary>
    private static bool TryParseWhole(ReadOnlySpan<byte> text, out long value) =>
        Utf8Parser.TryParse(text, out value, out var consumed) && consumed == text.Length;

    /// <summary>USER_HZ: 100 on every Linux architecture .NET runs on, but sysconf is the documented source.</summary>
    [SupportedOSPlatform("linux")]
    private static long ReadClockTicks()
    {
        var ticks = Interop.sysconf(Interop.SC_CLK_TCK);
        return ticks > 0 ? ticks : 100;
    }

    /// <summary>A cgroup's CPU time and memory; false once it is gone (its worker's tree emptied meanwhile).</summary>
    [SupportedOSPlatform("linux")]
    private static bool TryReadCgroup(string cgroup, out ProcessStat stat)
    {
        stat = default;
        try
        {
            var usage = File.ReadLines(Path.Combine(cgroup, "cpu.stat")).FirstOrDefault(l => l.StartsWith("usage_usec ", StringComparison.Ordinal));
            if (usage is null || !long.TryParse(usage.AsSpan("usage_usec ".Length), NumberStyles.None, CultureInfo.InvariantCulture, out var micros))
            {
                return false;
            }
            var current = Path.Combine(cgroup, "memory.current");
            var memory = File.Exists(current)
                ? long.Parse(File.ReadAllText(current).Trim(), NumberStyles.None, CultureInfo.InvariantCulture)
                : File.ReadLines(Path.Combine(cgroup, "cgroup.procs"))
                    .Sum(line => int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && TryReadLinux(pid, out var one) ? one.ResidentBytes : 0);
            stat = new ProcessStat(micros / 1e6, memory);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return false;
        }
    }
}
