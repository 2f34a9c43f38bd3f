using Clusterd.Supervision;

namespace Clusterd.Tests.Supervision;

public class WorkerLogBookTests
{
    [Fact]
    public void Restore_WhatExportGave_HoldsTheSameLinesAndTheSeqGoesOn()
    {
        var before = new WorkerLogBook(TimeProvider.System, linesPerGroup: 2);
        before.Append("web", 0, 100, "stdout", "one");
        before.Append("api", 0, 200, "stderr", "two");
        before.Append("web", 1, 101, "stdout", "three");
        before.Append("web", 0, 100, "stdout", "four"); // pushes "one" out: web holds two lines

        var after = new WorkerLogBook(TimeProvider.System, linesPerGroup: 2);
        after.Restore(before.Export());

        Assert.Equal(["two", "three", "four"], before.Export().Select(l => l.Text));
        Assert.Equal(before.Export(), after.Export());
        var next = after.Append("web", 0, 100, "stdout", "five");
        Assert.Equal(5, next.Seq);
        Assert.Equal(["four", "five"], after.Tail("web", slot: null, count: 10).Select(l => l.Text)); // still bounded per group
    }
}
