using System.Collections;
using System.Reflection;
using System.Text;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;
using Clusterd.Supervision;
using Clusterd.Supervision.Upgrade;

namespace Clusterd.Tests.Supervision.Upgrade;

public class UpgradeDocumentTests
{
    /// <summary>A state with every field set to something other than its default, so a field that does not round-trip shows.</summary>
    private static UpgradeState Full() => new(
        UpgradeDocument.Current,
        "/usr/bin/clusterd",
        ["--config", "/etc/clusterd/clusterd.toml"],
        "0.1.0",
        "/etc/clusterd/clusterd.toml",
        "[groups.web]\ncommand = [\"/bin/web\"]\n",
        new DateTimeOffset(2026, 11, 30, 20, 0, 0, TimeSpan.Zero),
        ControlFd: 7,
        NextSeq: 42,
        [new LifecycleEvent(41, new DateTimeOffset(2026, 11, 30, 20, 1, 0, TimeSpan.Zero), LifecycleEventKinds.Exit, "web", 1, 100, 2,
            ExitReasons.Crashed, 3, 9, 0.5)],
        new MetricsCounters([new("web", "fork", 5)], [new("web", "crashed", 1)], [new("web", "restart", 2)], [new("web", "passed", 9)],
            [new("web", "rate_limit", 4)], ReloadSuccesses: 3, ReloadFailures: 1),
        Spawns: 17,
        [new GroupState("web", Generation: 2, Desired: 3, AdminStopped: true, new NotifyState(8, "/run/clusterd/notify/web", 1000),
            [
                new AddressState("127.0.0.1:8080", Shared: false, [new SlotSocket(1, 9), new SlotSocket(2, 10)], Unrouted: [11], Vacated: [3]),
                new AddressState("unix:/run/web.sock", Shared: true, [new SlotSocket(AddressState.SharedSlot, 14)], Unrouted: [], Vacated: []),
            ],
            [new WorkerRecord(1, WorkerState.Starting, 100, "/sys/fs/cgroup/clusterd/workers/web/1-g2-17", 2,
                new DateTimeOffset(2026, 11, 30, 20, 2, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 30, 20, 3, 0, TimeSpan.Zero),
                "warming up", Restarts: 4, ConsecutiveFailures: 2, RespawnedAtOnce: true,
                [new DateTimeOffset(2026, 11, 30, 20, 4, 0, TimeSpan.Zero)],
                new ExitInfo(ExitReasons.Crashed, 3, 9, "segfault", Transient: true),
                DesiredRunning: true, TimerDue: 123_456_789, WatchdogDue: 987_654_321, OwnSockets: [11], Stdout: 12, Stderr: 13,
                DroppedOutputLines: 6,
                new HealthRecord(Socket: 15, ChecksStarted: true, ConsecutiveFailures: 2, NextCheckDue: 111_111_111, LifetimeDue: 222_222_222,
                    Lifetime: TimeSpan.FromHours(1.05), new CheckResult(Passed: false, TimeSpan.FromMilliseconds(12), "503 Service Unavailable")))])],
        [new LogLine(8, new DateTimeOffset(2026, 11, 30, 20, 5, 0, TimeSpan.Zero), "web", 1, 100, "stdout", "listening on :8080")],
        OldBinaryFd: 16);

    [Fact]
    public void Deserialize_WhatSerializeWrote_GivesEveryFieldBack()
    {
        var written = UpgradeDocument.Serialize(Full());

        var read = UpgradeDocument.Deserialize(written);

        Assert.Equal(Encoding.UTF8.GetString(written), Encoding.UTF8.GetString(UpgradeDocument.Serialize(read)));
        Assert.Equal(Full().Groups[0].Workers[0].LastExit, read.Groups[0].Workers[0].LastExit);
        Assert.Equal((7, 42L, 17L), (read.ControlFd, read.NextSeq, read.Spawns));
    }

    [Fact]
    public void Full_SetsEveryFieldOfEveryRecord()
    {
        // Guards the round trip above: a field added to the document must be set there, or it is never tested.
        // The exceptions: a shared address has no unrouted sockets and no vacated slots, and the steered one is not shared;
        // a check that failed has a reason, and one that passed has none.
        var unset = Unset(Full(), "state").Where(p => p is not ("state.Groups[].Listeners[].Unrouted" or "state.Groups[].Listeners[].Vacated"
            or "state.Groups[].Listeners[].Shared" or "state.Groups[].Workers[].Health.LastCheck.Passed")).ToList();

        Assert.Empty(unset);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(999)]
    public void Deserialize_VersionItDoesNotRead_IsRefusedSayingWhichItReads(int version)
    {
        var json = Encoding.UTF8.GetString(UpgradeDocument.Serialize(Full() with { Version = version }));

        var e = Assert.Throws<UpgradeStateException>(() => UpgradeDocument.Deserialize(Encoding.UTF8.GetBytes(json)));

        Assert.Contains($"version {version}; this clusterd reads versions 1 to {UpgradeDocument.Current}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deserialize_Version1_ReadsWithoutHealthWatchesOrLogBook()
    {
        // What a clusterd before version 2 wrote: no health field (it refused to upgrade with health checks or
        // max_lifetime), no log book.
        var json = System.Text.Json.Nodes.JsonNode.Parse(UpgradeDocument.Serialize(Full() with { Version = 1 }))!;
        json["groups"]![0]!["workers"]![0]!.AsObject().Remove("health");
        json.AsObject().Remove("logs");
        json.AsObject().Remove("old_binary_fd");

        var read = UpgradeDocument.Deserialize(Encoding.UTF8.GetBytes(json.ToJsonString()));

        Assert.Null(read.Groups[0].Workers[0].Health);
        Assert.Null(read.Logs);
        Assert.Null(read.OldBinaryFd);
        Assert.Equal(Full().Groups[0].Workers[0].Pid, read.Groups[0].Workers[0].Pid);
    }

    [Fact]
    public void Deserialize_Version2_ReadsWithoutTheOldBinaryHeldOpen()
    {
        // What a clusterd before version 3 wrote: its fallback goes by the old binary's path.
        var json = System.Text.Json.Nodes.JsonNode.Parse(UpgradeDocument.Serialize(Full() with { Version = 2 }))!;
        json.AsObject().Remove("old_binary_fd");

        var read = UpgradeDocument.Deserialize(Encoding.UTF8.GetBytes(json.ToJsonString()));

        Assert.Null(read.OldBinaryFd);
        Assert.Equal((Full().OldBinary, Full().Groups[0].Workers[0].Health), (read.OldBinary, read.Groups[0].Workers[0].Health));
    }

    [Fact]
    public void Deserialize_MissingField_IsRefused()
    {
        var json = Encoding.UTF8.GetString(UpgradeDocument.Serialize(Full())).Replace("\"control_fd\":7,", "", StringComparison.Ordinal);

        var e = Assert.Throws<UpgradeStateException>(() => UpgradeDocument.Deserialize(Encoding.UTF8.GetBytes(json)));

        Assert.Contains("control_fd", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deserialize_NotJson_IsRefused()
    {
        var e = Assert.Throws<UpgradeStateException>(() => UpgradeDocument.Deserialize("clusterd"u8));

        Assert.Contains("not JSON", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Descriptors_EveryFdTheStateNames_OnceEach()
    {
        Assert.Equal([7, 8, 9, 10, 11, 12, 13, 14, 15, 16], Full().Descriptors().Order());
    }

    /// <summary>The paths of the properties under <paramref name="value"/> that hold their type's default (or an empty list).</summary>
    private static IEnumerable<string> Unset(object? value, string path)
    {
        switch (value)
        {
            case null:
                yield return path;
                yield break;
            case string s:
                if (s.Length == 0)
                {
                    yield return path;
                }
                yield break;
            case IEnumerable list:
                var any = false;
                foreach (var item in list)
                {
                    any = true;
                    foreach (var inner in Unset(item, path + "[]"))
                    {
                        yield return inner;
                    }
                }
                if (!any)
                {
                    yield return path;
                }
                yield break;
        }
        var type = value.GetType();
        if (type.IsPrimitive || type.IsEnum || value is DateTimeOffset or TimeSpan or decimal)
        {
            if (value.Equals(Activator.CreateInstance(type)))
            {
                yield return path;
            }
            yield break;
        }
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract"))
        {
            foreach (var inner in Unset(property.GetValue(value), $"{path}.{property.Name}"))
            {
                yield return inner;
            }
        }
    }
}
