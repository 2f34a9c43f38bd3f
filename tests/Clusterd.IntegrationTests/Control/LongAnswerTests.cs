using System.Diagnostics;
using Clusterd.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Clusterd.IntegrationTests.Control;

/// <summary>Answers of any size come back whole, and what workers write reaches a terminal only with its control characters shown.</summary>
public sealed class LongAnswerTests(ITestOutputHelper output)
{
    /// <summary>The log book keeps the last 2000 lines of each group (Supervision/WorkerLogBook.cs).</summary>
    private const int LinesKept = 2000;

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
    public async Task Status_WorkersWith4000CharacterStatusTexts_ComesBackWholeFromSeveralPages()
    {
        // 24 000 bytes of JSON per worker: six of them are three pages, the group split between them. (Hundreds of
        // them, more than a frame may hold: the unit test of the status pages.)
        var status = new string('<', 4000);
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", Toml.Worker("--status", status), 6, []), output: null);
        await clusterd.WaitForEventAsync("listening", "web", count: 6);

        var (code, stdout, stderr) = await Clusterctl.RunAsync(clusterd.ControlSocket, null, "status", "--json");

        Assert.True(code == 0, stderr);
        Assert.True(stdout.Length > 2 * 64 * 1024, "the answer must span pages");
        using var json = System.Text.Json.JsonDocument.Parse(stdout);
        var group = Assert.Single(json.RootElement.GetProperty("groups").EnumerateArray());
        var workers = group.GetProperty("workers").EnumerateArray().ToList();
        Assert.Equal(Enumerable.Range(0, 6), workers.Select(w => w.GetProperty("slot").GetInt32()));
        Assert.All(workers, w => Assert.Equal(status, w.GetProperty("status").GetString()));
    }

    [Fact]
    public async Task Logs_AtATerminal_ShowsWhatTheWorkerWroteWithItsControlCharactersEscaped()
    {
        // printf turns \033 and \007 into ESC and BEL: a line that would retitle the terminal and clear it.
        var command = $"printf '\\033]0;owned\\007\\033[2Jhello\\n'; exec '{Repo.TestWorker}'";
        await using var clusterd = ClusterdProcess.Start(Toml.Group("web", ["/bin/sh", "-c", command], 1, []), output);
        await clusterd.WaitForAsync(e => e.EventId == LogEntry.WorkerOutput && e["Line"]!.EndsWith("hello", StringComparison.Ordinal));

        var terminal = await AtATerminalAsync($"'{Repo.Clusterctl}' --socket '{clusterd.ControlSocket}' logs web");
        var piped = await Clusterctl.RunAsync(clusterd.ControlSocket, null, "logs", "web");
        var json = await Clusterctl.RunAsync(clusterd.ControlSocket, null, "logs", "web", "--json");

        const string Written = "\u001b]0;owned\u0007\u001b[2Jhello";
        Assert.Contains(@"stdout: \x1b]0;owned\x07\x1b[2Jhello", terminal, StringComparison.Ordinal);
        // (.NET's console may send the terminal a keypad mode of its own: only the worker's sequences must not pass.)
        Assert.DoesNotContain("\u001b]", terminal, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b[2J", terminal, StringComparison.Ordinal);
        Assert.DoesNotContain('\u0007', terminal);
        Assert.Contains("stdout: " + Written, piped.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', json.Stdout);
        Assert.Contains(json.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries),
            l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("text").GetString() == Written);
    }

    /// <summary>Runs a command line under a pseudo-terminal (script, from util-linux) and returns what it printed.</summary>
    private static async Task<string> AtATerminalAsync(string commandLine)
    {
        var psi = new ProcessStartInfo("script") { RedirectStandardOutput = true, RedirectStandardInput = true };
        foreach (var a in new[] { "-q", "-e", "-c", commandLine, "/dev/null" })
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["NO_COLOR"] = "1";
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = await p.StandardOutput.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(cts.Token);
        Assert.True(p.ExitCode == 0, stdout);
        return stdout;
    }
}
