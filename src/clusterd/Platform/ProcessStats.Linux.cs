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

    // cpu.stat is at most a dozen lines of under 40 bytes, usage_usec first; memory.current is one number; cgroup.procs
    // is a pid a line, a handful for most workers and read on through the buffer for a pre-fork worker's hundreds.
    private const int CgroupFileBufferSize = 512;

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
        var length = KernelFile.ReadProcStat(pid, line);
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
        var length = KernelFile.ReadProcStat(pid, line);
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

    /// <summary>
    /// A cgroup's CPU time and memory; false once it is gone (its worker's tree emptied meanwhile). Read like a stat
    /// line: a few opens and reads into stack buffers, parsed in place, and ENOENT rather than an exception where there
    /// is no memory controller.
    /// </summary>
    [SupportedOSPlatform("linux")]
    private static bool TryReadCgroup(string cgroup, out ProcessStat stat)
    {
        stat = default;
        Span<byte> path = stackalloc byte[KernelFile.PathBufferSize];
        Span<byte> text = stackalloc byte[CgroupFileBufferSize];
        if (!KernelFile.TryJoin(cgroup, "cpu.stat"u8, path, out var cpuStat))
        {
            return false;
        }
        var length = KernelFile.Read(cpuStat, text);
        if (length < 0 || !TryParseCpuStat(text[..length], out var micros) || !TryReadCgroupMemory(cgroup, path, text, out var memory))
        {
            return false;
        }
        stat = new ProcessStat(micros / 1e6, memory);
        return true;
    }

    /// <summary>memory.current, or without the memory controller (no such file) the resident memory of each process in the cgroup.</summary>
    [SupportedOSPlatform("linux")]
    private static bool TryReadCgroupMemory(string cgroup, Span<byte> path, Span<byte> text, out long bytes)
    {
        bytes = 0;
        if (!KernelFile.TryJoin(cgroup, "memory.current"u8, path, out var current))
        {
            return false;
        }
        using (var file = KernelFile.Open(current, out var errno))
        {
            if (file is not null)
            {
                var length = KernelFile.ReadOnce(file, text);
                return length >= 0 && TryParseLine(text[..length], out bytes);
            }
            if (errno != LinuxConstants.ENOENT)
            {
                return false;
            }
        }
        if (!KernelFile.TryJoin(cgroup, "cgroup.procs"u8, path, out var procs))
        {
            return false;
        }
        using var list = KernelFile.Open(procs, out _);
        return list is not null && TrySumResident(new KernelFileLines(list, text), ResidentBytesOf, out bytes);
    }

    [SupportedOSPlatform("linux")]
    private static long ResidentBytesOf(int pid) => TryReadLinux(pid, out var stat) ? stat.ResidentBytes : 0; // gone meanwhile: nothing left

    /// <summary>
    /// The sum of <paramref name="residentBytesOf"/> over the pids of a cgroup.procs, one a line; false if a line is not
    /// a pid, or the file could not be read to its end. Internal for tests.
    /// </summary>
    [SupportedOSPlatform("linux")]
    internal static bool TrySumResident(KernelFileLines pids, Func<int, long> residentBytesOf, out long bytes)
    {
        bytes = 0;
        while (pids.TryNext(out var line))
        {
            if (!Utf8Parser.TryParse(line, out int pid, out var consumed) || consumed != line.Length || pid <= 0)
            {
                return false;
            }
            bytes += residentBytesOf(pid);
        }
        return !pids.Failed;
    }

    /// <summary>usage_usec of a cpu.stat (the cgroup's CPU time in µs, on every cgroup v2 even without the cpu controller). Internal for tests.</summary>
    internal static bool TryParseCpuStat(ReadOnlySpan<byte> text, out long micros)
    {
        micros = 0;
        while (true)
        {
            var newline = text.IndexOf((byte)'\n');
            if (newline < 0)
            {
                return false; // no usage_usec line, or it was cut off by the buffer's end
            }
            if (text.StartsWith("usage_usec "u8))
            {
                return TryParseCount(text["usage_usec ".Length..newline], out micros);
            }
            text = text[(newline + 1)..];
        }
    }

    /// <summary>A file that is one decimal and a newline, as memory.current is. Internal for tests.</summary>
    internal static bool TryParseLine(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        return text.EndsWith("\n"u8) && TryParseCount(text[..^1], out value);
    }

    /// <summary>A decimal that is the whole text and not negative, as the kernel's counters are.</summary>
    private static bool TryParseCount(ReadOnlySpan<byte> text, out long value) => TryParseWhole(text, out value) && value >= 0;
}
