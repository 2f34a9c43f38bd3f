using Clusterd.IntegrationTests.Infrastructure;

namespace Clusterd.IntegrationTests.Control;

/// <summary>Answers of any size come back whole.</summary>
public sealed class LongAnswerTests
{
    /// <summary>The log book keeps the last 1000 lines of each group (Supervision/WorkerLogBook.cs).</summary>
    private const int LinesKept = 1000;

    [Fact]
    public async Task Logs_2000LinesOf4000LessThanSigns_ComeBackWholeThroughClusterctl()
    {
        var line = new string('<', 4000); // 24 000 bytes in JSON: the lines kept are ~24 MB, twenty-four frame limits
        // No test output: clusterd logs each line too, and 2000 of them are 48 MB of JSON.
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker("--say", line, "--say-times", "2000"), 1, []), output: null);
        await clusterd.WaitForEventAsync("listening", "web");
        await clusterd.WaitForAsync(e => e.EventId == LogEntry.WorkerOutput, count: 2001, timeout: TimeSpan.FromMinutes(3), what: "2000 lines and the worker's own");

        var (code, stdout, stderr) = await Clusterctl.RunAsync(clusterd.ControlSocket, null, "logs", "web", "-n", "2000");

        Assert.True(code == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(LinesKept, lines.Length);
        Assert.All(lines.SkipLast(1), l => Assert.EndsWith(" stdout: " + line, l, StringComparison.Ordinal));
        Assert.Contains("testworker pid=", lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_48WorkersWith4000CharacterStatusTexts_ComesBackWholeThroughClusterctl()
    {
        // Light workers (a python3 that says READY=1 and STATUS=, then sleeps): 48 of them with 24 000 bytes of status
        // each in JSON are more than a frame may hold. (Hundreds of them: the unit test of the status pages.)
        const string Worker = "import os, socket, time; path = os.environ['NOTIFY_SOCKET']; "
            + "path = '\\0' + path[1:] if path.startswith('@') else path; "
            + "socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b'READY=1\\nSTATUS=' + b'<' * 4000, path); time.sleep(100000)";
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", ["python3", "-c", Worker], 48, []), output: null);
        await clusterd.WaitForEventAsync("listening", "web", count: 48, timeout: TimeSpan.FromMinutes(2));

        var (code, stdout, stderr) = await Clusterctl.RunAsync(clusterd.ControlSocket, null, "status", "--json");

        Assert.True(code == 0, stderr);
        Assert.True(stdout.Length > Clusterd.Protocol.Framing.MaxPayload, "the answer must be too big for one frame");
        using var json = System.Text.Json.JsonDocument.Parse(stdout);
        var workers = json.RootElement.GetProperty("groups")[0].GetProperty("workers").EnumerateArray().ToList();
        Assert.Equal(Enumerable.Range(0, 48), workers.Select(w => w.GetProperty("slot").GetInt32()));
        Assert.All(workers, w => Assert.Equal(new string('<', 4000), w.GetProperty("status").GetString()));
    }
}
