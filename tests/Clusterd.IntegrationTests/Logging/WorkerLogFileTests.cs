using System.Globalization;
using System.Text.RegularExpressions;
using Clusterd.IntegrationTests.Infrastructure;
using Clusterd.IntegrationTests.Metrics;
using Clusterd.Protocol.Messages;
using Xunit.Abstractions;

namespace Clusterd.IntegrationTests.Logging;

/// <summary>target = "file" with a real clusterd and real workers (docs/logging.md).</summary>
public partial class WorkerLogFileTests(ITestOutputHelper output)
{
    private static string FileLogs(string path, params string[] extra) =>
        string.Join('\n', ["[logs]", "target = \"file\"", $"file = {ClusterdProcess.Quote(path)}", .. extra]) + "\n\n";

    private static string Read(string path) => File.Exists(path) ? File.ReadAllText(path) : "";

    [Fact]
    public async Task FileTarget_WorkerLines_CarryTimeSlotPidAndStream()
    {
        var dir = Directory.CreateTempSubdirectory("clusterd-filelogs-").FullName;
        var path = Path.Combine(dir, "{group}-{slot}.log");
        await using var clusterd = ClusterdProcess.Start(
            FileLogs(path) + Toml.Group("web", Toml.Worker("--say", "hello out", "--say-err", "hello err"), 1, []), output);
        var file = Path.Combine(dir, "web-0.log");

        await Wait.UntilAsync(() => Read(file).Contains("hello err", StringComparison.Ordinal) && Read(file).Contains("hello out", StringComparison.Ordinal),
            "both lines in the file");

        var pid = clusterd.Events("web").First(e => e.Event == "fork").Pid;
        var lines = File.ReadAllLines(file).Where(l => l.Contains(": hello", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, lines.Length);
        foreach (var line in lines)
        {
            var m = FileLine().Match(line);
            Assert.True(m.Success, line);
            Assert.True(DateTimeOffset.TryParse(m.Groups["time"].Value, CultureInfo.InvariantCulture, DateTimeStyles.None, out _), line);
            Assert.Equal(pid.ToString(CultureInfo.InvariantCulture), m.Groups["pid"].Value);
        }
        Assert.Contains(lines, l => l.EndsWith(" stdout: hello out", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.EndsWith(" stderr: hello err", StringComparison.Ordinal));
        // Not on the console as well: the file is where the group's lines go.
        Assert.DoesNotContain(clusterd.Entries, e => e.EventId == LogEntry.WorkerOutput && e["Line"] == "hello out");
        Assert.Equal(Convert.ToInt32("640", 8), (int)File.GetUnixFileMode(file));
    }

    [Fact]
    public async Task Reopen_AfterExternalMove_TheNextLinesGoToANewFile()
    {
        var dir = Directory.CreateTempSubdirectory("clusterd-reopen-").FullName;
        var path = Path.Combine(dir, "web.log");
        await using var clusterd = ClusterdProcess.Start(FileLogs(path) + Toml.Group("web", Toml.Worker("--say", "hello"), 1, []), output);
        await Wait.UntilAsync(() => Read(path).Contains("hello", StringComparison.Ordinal), "the first worker's line");

        File.Move(path, path + ".1"); // what logrotate does, without copytruncate
        var reopen = await clusterd.RequestAsync(new Request { Command = Commands.ReopenLogs });
        Assert.True(reopen.Ok, reopen.Error?.Message);
        var restart = await clusterd.RequestAsync(new Request { Command = Commands.Restart, Group = "web" });
        Assert.True(restart.Ok, restart.Error?.Message);
        await Wait.UntilAsync(() => Read(path).Contains("hello", StringComparison.Ordinal), "the new worker's line in a new file");

        var pids = clusterd.Events("web").Where(e => e.Event == "fork").Select(e => e.Pid).ToArray();
        Assert.Equal(2, pids.Length);
        Assert.Contains($"[{pids[0]}] stdout: hello", File.ReadAllText(path + ".1"), StringComparison.Ordinal);
        Assert.DoesNotContain($"[{pids[1]}]", File.ReadAllText(path + ".1"), StringComparison.Ordinal);
        Assert.Contains($"[{pids[1]}] stdout: hello", Read(path), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reload_GroupRemoved_ClosesItsFileOnceItsWorkersAreGone()
    {
        var dir = Directory.CreateTempSubdirectory("clusterd-logclose-").FullName;
        var web = Toml.Group("web", Toml.Worker("--say", "hello"), 1, []);
        await using var clusterd = ClusterdProcess.Start(
            FileLogs(Path.Combine(dir, "{group}.log")) + web + Toml.Group("old", Toml.Worker("--say", "hello"), 1, []), output);
        var (webLog, oldLog) = (Path.Combine(dir, "web.log"), Path.Combine(dir, "old.log"));
        await Wait.UntilAsync(() => Read(webLog).Contains("hello", StringComparison.Ordinal) && Read(oldLog).Contains("hello", StringComparison.Ordinal),
            "both groups' lines");
        Assert.True(HoldsOpen(clusterd.Pid, oldLog));

        var text = await File.ReadAllTextAsync(clusterd.ConfigPath);
        await File.WriteAllTextAsync(clusterd.ConfigPath, text[..text.IndexOf("[groups.", StringComparison.Ordinal)] + web);
        var reload = await clusterd.RequestAsync(new Request { Command = Commands.Reload });
        Assert.True(reload.Ok, reload.Error?.Message);
        await clusterd.WaitForEventAsync("exit", "old");

        await Wait.UntilAsync(() => !HoldsOpen(clusterd.Pid, oldLog), "old.log closed");
        Assert.True(HoldsOpen(clusterd.Pid, webLog));
    }

    [Fact]
    public async Task Reload_FileChanged_ClosesTheOldFileAndTheNextLinesGoToTheNewOne()
    {
        var dir = Directory.CreateTempSubdirectory("clusterd-logmove-").FullName;
        var (before, after) = (Path.Combine(dir, "before.log"), Path.Combine(dir, "after.log"));
        string Web(string path) => Toml.Group("web", Toml.Worker("--say", "hello"), 1, [], "reuseport", "notify",
            $"logs = {{ target = \"file\", file = {ClusterdProcess.Quote(path)} }}");
        await using var clusterd = ClusterdProcess.Start(Web(before), output);
        await Wait.UntilAsync(() => Read(before).Contains("hello", StringComparison.Ordinal), "the first worker's line");

        var text = await File.ReadAllTextAsync(clusterd.ConfigPath);
        await File.WriteAllTextAsync(clusterd.ConfigPath, text.Replace(before, after, StringComparison.Ordinal));
        var reload = await clusterd.RequestAsync(new Request { Command = Commands.Reload });
        Assert.True(reload.Ok, reload.Error?.Message);
        // The worker runs on, quiet: nothing but the reload can have closed the old file.
        await Wait.UntilAsync(() => !HoldsOpen(clusterd.Pid, before), "before.log closed");
        var restart = await clusterd.RequestAsync(new Request { Command = Commands.Restart, Group = "web" });
        Assert.True(restart.Ok, restart.Error?.Message);
        await Wait.UntilAsync(() => Read(after).Contains("hello", StringComparison.Ordinal), "the new worker's line in the new file");

        var pids = clusterd.Events("web").Where(e => e.Event == "fork").Select(e => e.Pid).ToArray();
        Assert.Equal(2, pids.Length);
        Assert.DoesNotContain($"[{pids[1]}]", Read(before), StringComparison.Ordinal);
        Assert.Contains($"[{pids[1]}] stdout: hello", Read(after), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RateLimit_WorkerQuietAfterABurst_ItsDropsAreReported()
    {
        var dir = Directory.CreateTempSubdirectory("clusterd-ratelimit-").FullName;
        var path = Path.Combine(dir, "web.log");
        await using var clusterd = ClusterdProcess.Start(
            FileLogs(path, "rate_limit = \"1/h\"", "burst = 2") + Toml.Group("web", Toml.Worker("--say", "hello", "--say-times", "5"), 1, []), output);

        // The worker says its five lines (then that it listens) and nothing more: no later line can carry the report.
        await Wait.UntilAsync(() => Suppressed().IsMatch(Read(path)), "the report of the dropped lines");

        Assert.True(int.Parse(Suppressed().Match(Read(path)).Groups[1].Value, CultureInfo.InvariantCulture) >= 3, Read(path));
        Assert.Equal(2, File.ReadLines(path).Count(l => l.EndsWith(" stdout: hello", StringComparison.Ordinal)));
    }

    /// <summary>Whether the process has the file open (a link in /proc/PID/fd to it).</summary>
    private static bool HoldsOpen(int pid, string path) => Directory.GetFiles($"/proc/{pid}/fd").Any(fd =>
    {
        try
        {
            return File.ResolveLinkTarget(fd, returnFinalTarget: false)?.FullName == path;
        }
        catch (IOException)
        {
            return false; // closed while we looked
        }
    });

    /// <summary>
    /// A worker writing as fast as its pipe takes it (a shortened run of the bench's 10 s flood): it is never
    /// blocked for good, the line it writes after the flood arrives, clusterd's memory stays within its queues'
    /// bounds, and what did not fit is counted.
    /// </summary>
    [Fact]
    public async Task Flood_ToAFile_NeitherBlocksTheWorkerNorGrowsClusterd_AndDropsAreCounted()
    {
        var dir = Directory.CreateTempSubdirectory("clusterd-flood-").FullName;
        var path = Path.Combine(dir, "web.log");
        var metricsPort = Ports.Free();
        await using var clusterd = ClusterdProcess.Start(
            $"[metrics]\nlisten = \"127.0.0.1:{metricsPort}\"\n\n" + FileLogs(path, "max_size = \"16MiB\"", "keep = 50", "compress = false")
                + Toml.Group("web", Toml.Worker("--flood-ms", "3000"), 1, [], ready: "started"), output);

        await Wait.UntilAsync(() => Read(path).Contains("flood over after", StringComparison.Ordinal), "the line written after the flood",
            TimeSpan.FromSeconds(60));

        Assert.DoesNotContain(clusterd.Events("web"), e => e.Event == "exit");
        var scrape = await MetricsEndpointTests.ScrapeAsync(metricsPort);
        var dropped = MetricsEndpointTests.Sample(scrape, "clusterd_log_lines_dropped_total", "group=\"web\",reason=\"queue_full\"")
            + MetricsEndpointTests.Sample(scrape, "clusterd_log_lines_dropped_total", "group=\"web\",reason=\"slow_disk\"");
        var written = long.Parse(FloodCount().Match(Read(path)).Groups[1].Value, CultureInfo.InvariantCulture);
        // The flood fills more than one file (more on a faster machine): count the rotated ones too. With keep = 50,
        // none is gone unless web.log.50 exists.
        Assert.False(File.Exists(path + ".50"), "a rotated file may have been removed");
        var inFile = Directory.GetFiles(dir, "web.log*")
            .Sum(f => File.ReadLines(f).LongCount(l => l.Contains(" stdout: flood ", StringComparison.Ordinal)));
        output.WriteLine($"worker wrote {written} lines, {inFile} in the file, {dropped} dropped");
        // Every flood line came before the first "flood over" one through the same queues: in the file, or counted.
        Assert.True(inFile + (long)dropped >= written, $"{written} written, {inFile} in the file, {dropped} counted as dropped");
        // The queues hold at most 8192 + 2048 lines and the log book 2000: far below this whatever the worker writes.
        Assert.True(ResidentBytes(clusterd.Pid) < 256L << 20, $"clusterd's RSS is {ResidentBytes(clusterd.Pid) >> 20} MiB");
    }

    private static long ResidentBytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    [GeneratedRegex(@"^(?<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) web/0\[(?<pid>\d+)\] (?<stream>stdout|stderr): ")]
    private static partial Regex FileLine();

    [GeneratedRegex(@"stderr: clusterd: suppressed (\d+) lines of web/0 over its rate_limit \(1/h, burst 2\)")]
    private static partial Regex Suppressed();

    [GeneratedRegex(@"flood over after (\d+) lines")]
    private static partial Regex FloodCount();
}
