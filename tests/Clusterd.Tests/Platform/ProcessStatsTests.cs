using System.Diagnostics;
using System.Runtime.Versioning;
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
}
