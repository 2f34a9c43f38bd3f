using System.Globalization;
using System.Runtime.Versioning;
using Clusterd.Platform;

namespace Clusterd.Tests.Platform;

/// <summary>
/// The name of the subtree a clusterd makes at the root of the cgroup hierarchy, and which of those a starting clusterd
/// sweeps as abandoned. pids are reused (pid_max is 32768 here), so a name must tell one process from a later one.
/// </summary>
[SupportedOSPlatform("linux")] // cgroups, /proc
public sealed class WorkerCgroupsTests
{
    private const int Pid = 4242;

    [Fact]
    public void SubtreeName_ThisProcess_IsItsPidAndWhenItStarted()
    {
        Assert.True(ProcessStats.TryReadStartTicks(Environment.ProcessId, out var start));
        Assert.Equal(string.Create(CultureInfo.InvariantCulture, $"clusterd-{Environment.ProcessId}-{start}"), WorkerCgroups.SubtreeName(Environment.ProcessId));
    }

    [Theory]
    [InlineData("clusterd-4242-1000", 1000L, false)] // that very process runs (itself, or itself after an upgrade's exec)
    [InlineData("clusterd-4242-1000", 2000L, true)] // another process has the pid now: the subtree's clusterd is gone
    [InlineData("clusterd-4242-1000", null, true)]
    [InlineData("clusterd-4242", 2000L, false)] // the older name: kept while any process has the pid
    [InlineData("clusterd-4242", null, true)]
    [InlineData("clusterd-web", 1000L, false)] // not a name clusterd makes: not clusterd's to remove
    [InlineData("clusterd-4242-x", null, false)]
    [InlineData("other-4242-1000", null, false)]
    public void IsAbandoned_ByWhetherThatProcessStillRuns(string name, long? runningPidStartedAt, bool abandoned) =>
        Assert.Equal(abandoned, WorkerCgroups.IsAbandoned(name, pid => pid == Pid ? runningPidStartedAt : null));
}
