using System.Diagnostics;
using System.Runtime.Versioning;
using System.Text;
using Clusterd.Platform;

namespace Clusterd.Tests.Platform;

public class ProcessStatsTests
{
    [Fact]
    public void TryRead_OwnProcess_ReportsCpuAndResidentMemory()
    {
        // Burn some CPU first so the reading cannot be 0 at a 10 ms tick.
        var watch = Stopwatch.StartNew();
        var x = 0.0;
        while (watch.ElapsedMilliseconds < 50)
        {
            x += Math.Sqrt(watch.ElapsedTicks);
        }
        Assert.True(x > 0);

        Assert.True(ProcessStats.TryRead(Environment.ProcessId, out var stat));

        Assert.True(stat.CpuSeconds >= 0.02, $"cpu {stat.CpuSeconds}s");
        Assert.True(stat.CpuSeconds <= Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds + 0.02);
        var working = Environment.WorkingSet;
        Assert.InRange(stat.ResidentBytes, working / 2, working * 2);
    }

    [Fact]
    public void TryRead_NoSuchPid_ReturnsFalse()
    {
        Assert.False(ProcessStats.TryRead(int.MaxValue, out _));
        Assert.False(ProcessStats.TryRead(0, out _));
    }

    [Fact]
    public void TryParseStat_CommWithSpacesAndParens_CountsFieldsFromTheLastParen()
    {
        // Fields 14 (utime) = 250, 15 (stime) = 50, 24 (rss) = 1000 pages.
        var line = "1234 (a b) (c)) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 100 123456789 1000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"u8;

        Assert.True(ProcessStats.TryParseStat(line, clockTicks: 100, pageSize: 4096, out var stat));

        Assert.Equal(3.0, stat.CpuSeconds, precision: 9);
        Assert.Equal(1000L * 4096, stat.ResidentBytes);
    }

    [Fact]
    public void TryParseStat_Truncated_ReturnsFalse()
    {
        Assert.False(ProcessStats.TryParseStat("1234 (x) S 1 2 3"u8, 100, 4096, out _));
        Assert.False(ProcessStats.TryParseStat("garbage"u8, 100, 4096, out _));
    }

    [Fact]
    [SupportedOSPlatform("linux")]
    public void TryReadStartTicks_ThisProcessAndAChildStartedLater_TheChildsIsLater()
    {
        Assert.True(ProcessStats.TryReadStartTicks(Environment.ProcessId, out var mine));
        using var child = System.Diagnostics.Process.Start("sleep", "30");
        try
        {
            Assert.True(ProcessStats.TryReadStartTicks(child.Id, out var childs));
            Assert.True(childs >= mine, $"the child started at {childs}, this process at {mine}");
            Assert.True(ProcessStats.TryReadStartTicks(Environment.ProcessId, out var again));
            Assert.Equal(mine, again);
        }
        finally
        {
            child.Kill();
            child.WaitForExit();
        }
    }

    [Fact]
    [SupportedOSPlatform("linux")]
    public void TryReadStartTicks_NoSuchProcess_ReturnsFalse() => Assert.False(ProcessStats.TryReadStartTicks(int.MaxValue, out _));

    [Theory]
    [InlineData("usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n", 1500000)]
    [InlineData("nr_periods 0\nusage_usec 42\n", 42)]
    public void TryParseCpuStat_UsageLine_ReadsItsMicroseconds(string text, long expected)
    {
        Assert.True(ProcessStats.TryParseCpuStat(Encoding.ASCII.GetBytes(text), out var micros));
        Assert.Equal(expected, micros);
    }

    [Theory]
    [InlineData("")]
    [InlineData("user_usec 5\nsystem_usec 6\n")]
    [InlineData("usage_usec 1500")] // cut off by the buffer's end: 1500 may be the start of 1500000
    [InlineData("usage_usec 12x\n")]
    [InlineData("usage_usec \n")]
    [InlineData("usage_usec -5\n")]
    public void TryParseCpuStat_NoWholeUsageLine_ReturnsFalse(string text) =>
        Assert.False(ProcessStats.TryParseCpuStat(Encoding.ASCII.GetBytes(text), out _));

    [Fact]
    public void TryParseLine_MemoryCurrent_ReadsTheNumber()
    {
        Assert.True(ProcessStats.TryParseLine("8814592\n"u8, out var bytes));
        Assert.Equal(8814592, bytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("8814592")]
    [InlineData("max\n")]
    [InlineData("-1\n")]
    [InlineData("12 34\n")]
    public void TryParseLine_NotOneNumberAndANewline_ReturnsFalse(string text) =>
        Assert.False(ProcessStats.TryParseLine(Encoding.ASCII.GetBytes(text), out _));

    [Theory]
    [InlineData("", 0)]
    [InlineData("7\n", 70)]
    [InlineData("7\n11\n300\n", 3180)]
    [InlineData("7\n11", 180)] // no newline at the end
    [SupportedOSPlatform("linux")]
    public void TrySumResident_PidsOneALine_SumsEach(string procs, long expected)
    {
        Assert.True(SumResident(procs, bufferSize: 512, pid => pid * 10L, out var bytes));
        Assert.Equal(expected, bytes);
    }

    [Fact]
    [SupportedOSPlatform("linux")]
    public void TrySumResident_ListLongerThanTheBuffer_ReadsOnAndCountsEveryPid()
    {
        var pids = Enumerable.Range(100_000, 1000).ToList();
        var seen = new List<int>();

        Assert.True(SumResident(string.Concat(pids.Select(pid => $"{pid}\n")), bufferSize: 16, pid => { seen.Add(pid); return 1; }, out var bytes));

        Assert.Equal(pids, seen);
        Assert.Equal(1000, bytes);
    }

    [Theory]
    [InlineData("12\nabc\n")]
    [InlineData("12\n\n13\n")]
    [InlineData("0\n")]
    [InlineData("99999999999\n")]
    [InlineData("123456789012345678901234567890\n")] // a line longer than the buffer
    [SupportedOSPlatform("linux")]
    public void TrySumResident_NotAPidALine_ReturnsFalse(string procs) =>
        Assert.False(SumResident(procs, bufferSize: 16, _ => 1, out _));

    [Fact]
    [SupportedOSPlatform("linux")]
    public void TryReadWorker_CgroupWithMemoryCurrent_ReadsItsUsageAndMemory()
    {
        using var cgroup = new FakeCgroup("usage_usec 2500000\nuser_usec 2000000\n");
        File.WriteAllText(Path.Combine(cgroup.Path, "memory.current"), "123456789\n");

        Assert.True(ProcessStats.TryReadWorker(Environment.ProcessId, cgroup.Path, out var stat));

        Assert.Equal(new ProcessStat(2.5, 123456789), stat);
    }

    [Fact]
    [SupportedOSPlatform("linux")]
    public void TryReadWorker_CgroupWithoutMemoryCurrent_SumsTheResidentMemoryOfItsProcesses()
    {
        using var child = StartSleeping();
        Assert.True(ProcessStats.TryRead(child.Id, out var one));
        using var cgroup = new FakeCgroup("usage_usec 1000\n");
        File.WriteAllText(Path.Combine(cgroup.Path, "cgroup.procs"), $"{child.Id}\n{int.MaxValue}\n{child.Id}\n"); // the second is gone

        Assert.True(ProcessStats.TryReadWorker(child.Id, cgroup.Path, out var stat));

        Assert.True(one.ResidentBytes > 0);
        Assert.Equal(new ProcessStat(0.001, 2 * one.ResidentBytes), stat);
    }

    [Theory]
    [InlineData("usage_usec 1000\n", "max\n", null)] // memory.current that is not a number
    [InlineData("usage_usec 1000\n", null, "12\nabc\n")] // cgroup.procs that is not pids
    [InlineData("usage_usec 1000\n", null, null)] // neither memory.current nor cgroup.procs: the cgroup went meanwhile
    [InlineData("user_usec 1000\n", "4096\n", null)] // cpu.stat without usage_usec
    [SupportedOSPlatform("linux")]
    public void TryReadWorker_CgroupUnreadable_ReadsTheMainProcessInstead(string cpuStat, string? memoryCurrent, string? procs)
    {
        using var child = StartSleeping();
        Assert.True(ProcessStats.TryRead(child.Id, out var main));
        using var cgroup = new FakeCgroup(cpuStat);
        if (memoryCurrent is not null)
        {
            File.WriteAllText(Path.Combine(cgroup.Path, "memory.current"), memoryCurrent);
        }
        if (procs is not null)
        {
            File.WriteAllText(Path.Combine(cgroup.Path, "cgroup.procs"), procs);
        }

        Assert.True(ProcessStats.TryReadWorker(child.Id, cgroup.Path, out var stat));

        Assert.Equal(main, stat);
    }

    [Fact]
    [SupportedOSPlatform("linux")]
    public void TryReadWorker_MemoryCurrentFailsOtherThanMissing_ReadsTheMainProcessNotTheProcsSum()
    {
        using var child = StartSleeping();
        Assert.True(ProcessStats.TryRead(child.Id, out var main));
        using var cgroup = new FakeCgroup("usage_usec 1000\n");
        File.CreateSymbolicLink(Path.Combine(cgroup.Path, "memory.current"), "memory.current"); // open: ELOOP
        File.WriteAllText(Path.Combine(cgroup.Path, "cgroup.procs"), $"{child.Id}\n{child.Id}\n");

        Assert.True(ProcessStats.TryReadWorker(child.Id, cgroup.Path, out var stat));

        Assert.Equal(main, stat);
    }

    [Theory]
    [InlineData("/nonexistent/clusterd-test")]
    [InlineData(null)] // a path longer than PATH_MAX
    [SupportedOSPlatform("linux")]
    public void TryReadWorker_NoSuchCgroup_ReadsTheMainProcess(string? cgroup)
    {
        using var child = StartSleeping();
        Assert.True(ProcessStats.TryRead(child.Id, out var main));

        Assert.True(ProcessStats.TryReadWorker(child.Id, cgroup ?? "/" + new string('a', 5000), out var stat));

        Assert.Equal(main, stat);
    }

    [SupportedOSPlatform("linux")]
    private static bool SumResident(string procs, int bufferSize, Func<int, long> residentBytesOf, out long bytes)
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, procs);
            using var file = File.OpenHandle(path);
            Span<byte> buffer = stackalloc byte[bufferSize];
            return ProcessStats.TrySumResident(new KernelFileLines(file, buffer), residentBytesOf, out bytes);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// A `sleep` that has reached its sleep: its memory and CPU time no longer change, so two readings of it agree. A
    /// process just started is still mapping its libraries.
    /// </summary>
    [SupportedOSPlatform("linux")]
    private static SleepingChild StartSleeping()
    {
        var child = new SleepingChild(Process.Start("sleep", "60"));
        var deadline = Stopwatch.StartNew();
        while (!child.IsAsleep())
        {
            Assert.True(deadline.Elapsed < Children.Timeout, "sleep never went to sleep");
            Thread.Sleep(10); // polled: nothing tells us when it gets there
        }
        return child;
    }

    private sealed class SleepingChild(Process process) : IDisposable
    {
        public int Id => process.Id;

        // proc(5) field 3, the state: S is an interruptible sleep, where `sleep` waits in nanosleep.
        public bool IsAsleep() => File.ReadAllText($"/proc/{process.Id}/stat").Split(") ")[^1].StartsWith('S');

        public void Dispose()
        {
            process.Kill();
            process.WaitForExit();
            process.Dispose();
        }
    }

    /// <summary>A directory holding what a worker's cgroup would: cpu.stat, and what each test adds.</summary>
    private sealed class FakeCgroup : IDisposable
    {
        public FakeCgroup(string cpuStat)
        {
            Path = Directory.CreateTempSubdirectory("clusterd-cgroup-").FullName;
            File.WriteAllText(System.IO.Path.Combine(Path, "cpu.stat"), cpuStat);
        }

        public string Path { get; }

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
