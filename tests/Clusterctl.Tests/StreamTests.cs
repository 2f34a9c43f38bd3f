using System.Runtime.CompilerServices;
using System.Text.Json;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;

namespace Clusterctl.Tests;

public sealed class StreamTests
{
    private static readonly DateTimeOffset s_t0 = new(2025, 5, 1, 12, 0, 0, TimeSpan.Zero);

    private static LifecycleEvent Event(long seq, string kind, int pid, string? reason = null, int? code = null, int? signal = null, double? delay = null) =>
        new(seq, s_t0.AddSeconds(seq), kind, "web", 1, pid, 3, reason, code, signal, delay);

    [Fact]
    public async Task EventsFollow_PrintsEveryStreamedFrameUntilTheDaemonEndsIt()
    {
        await using var daemon = new FakeDaemon(ExitCodeTests.Frames(
            new Response { Ok = true, More = true, Events = [Event(40, "fork", 4242), Event(41, "online", 4242)] },
            new Response { Ok = true, More = true, Events = [Event(42, "exit", 4242, ExitReasons.Crashed, signal: 11)] },
            new Response { Ok = true, More = true, Events = [Event(43, "backoff", 0, delay: 1.5)] },
            new Response { Ok = true, Events = [] }));
        var result = await Cli.RunAsync("events", "--follow", "--socket", daemon.SocketPath);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("""
            40 2025-05-01T12:00:40.000Z web/1 fork pid=4242 gen=3
            41 2025-05-01T12:00:41.000Z web/1 online pid=4242 gen=3
            42 2025-05-01T12:00:42.000Z web/1 exit pid=4242 gen=3 reason=crashed signal=SIGSEGV
            43 2025-05-01T12:00:43.000Z web/1 backoff pid=0 gen=3 delay=1.5s

            """, result.Out);
    }

    [Fact]
    public async Task EventsJson_PrintsOneObjectPerLine()
    {
        await using var daemon = new FakeDaemon(_ => new Response { Ok = true, Events = [Event(1, "fork", 10), Event(2, "exit", 10, "exited", code: 3)] });
        var result = await Cli.RunAsync("events", "--json", "--socket", daemon.SocketPath);
        var lines = result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        var second = JsonSerializer.Deserialize(lines[1], ProtocolJsonContext.Default.LifecycleEvent)!;
        Assert.Equal((2L, "exit", 3), (second.Seq, second.Kind, second.ExitCode));
        using var raw = JsonDocument.Parse(lines[1]);
        Assert.Equal(3, raw.RootElement.GetProperty("exit_code").GetInt32());
    }

    [Fact]
    public async Task EventsFollow_DaemonGoesAway_ExitsOkAndSaysSo()
    {
        await using var daemon = new FakeDaemon(_ => ThenHangUp(new Response { Ok = true, More = true, Events = [Event(7, "fork", 1)] }));
        var result = await Cli.RunAsync("events", "-f", "--socket", daemon.SocketPath);
        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("7 ", result.Out, StringComparison.Ordinal);
        Assert.Contains("closed the stream", result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EventsFollow_Cancelled_ExitsOk()
    {
        await using var daemon = new FakeDaemon(_ => Forever(new Response { Ok = true, More = true, Events = [Event(1, "fork", 1)] }));
        using var cts = new CancellationTokenSource();
        var run = Cli.RunWithInputAsync("", cts.Token, "events", "--follow", "--socket", daemon.SocketPath);
        await WaitUntilAsync(() => !daemon.Requests.IsEmpty);
        await Task.Delay(100);
        await cts.CancelAsync();
        var result = await run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("", result.Err);
    }

    [Fact]
    public async Task Logs_PrintsTimeGroupSlotPidStreamText()
    {
        await using var daemon = new FakeDaemon(_ => new Response
        {
            Ok = true,
            Logs = [new LogLine(1, s_t0, "web", 0, 41234, "stdout", "listening on :8080"), new LogLine(2, s_t0, "web", 1, 41240, "stderr", "warn: slow")],
        });
        var result = await Cli.RunAsync("logs", "web", "--socket", daemon.SocketPath);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("""
            2025-05-01T12:00:00.000Z web/0 41234 stdout: listening on :8080
            2025-05-01T12:00:00.000Z web/1 41240 stderr: warn: slow

            """, result.Out);
    }

    private static async IAsyncEnumerable<Response> ThenHangUp(Response first)
    {
        await Task.Yield();
        yield return first;
        throw new IOException("daemon stopped");
    }

    private const string Hostile = "\u001b]0;owned\u0007\u001b[2Jgone \u009b31m \u202eevil\ttab\\n";

    private static FakeDaemon HostileLogs() =>
        new(_ => new Response { Ok = true, Logs = [new LogLine(1, s_t0, "web", 0, 41234, "stdout", Hostile)] });

    [Fact]
    public async Task Logs_AtATerminal_ShowsControlCharactersEscaped()
    {
        await using var daemon = HostileLogs();
        var result = await Cli.RunAtTerminalAsync("logs", "web", "--socket", daemon.SocketPath);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("2025-05-01T12:00:00.000Z web/0 41234 stdout: \\x1b]0;owned\\x07\\x1b[2Jgone \\x9b31m \\u202eevil\ttab\\n\n", result.Out);
    }

    [Fact]
    public async Task Logs_Redirected_KeepsTheWorkersBytes()
    {
        await using var daemon = HostileLogs();
        var result = await Cli.RunAsync("logs", "web", "--socket", daemon.SocketPath);
        Assert.Equal($"2025-05-01T12:00:00.000Z web/0 41234 stdout: {Hostile}\n", result.Out);
    }

    [Fact]
    public async Task LogsJson_AtATerminal_IsTheExactTextInJson()
    {
        await using var daemon = HostileLogs();
        var result = await Cli.RunAtTerminalAsync("logs", "web", "--json", "--socket", daemon.SocketPath);
        Assert.DoesNotContain('\u001b', result.Out);
        Assert.Equal(Hostile, JsonSerializer.Deserialize(result.Out, ProtocolJsonContext.Default.LogLine)!.Text);
    }

    [Fact]
    public async Task Events_AtATerminal_EscapesTheReason()
    {
        await using var daemon = new FakeDaemon(_ => new Response { Ok = true, Events = [Event(1, "exit", 7, reason: "bad\u001b[8m")] });
        var result = await Cli.RunAtTerminalAsync("events", "--socket", daemon.SocketPath);
        Assert.EndsWith("reason=bad\\x1b[8m\n", result.Out, StringComparison.Ordinal);
    }

    internal static async IAsyncEnumerable<Response> Forever(Response frame, [EnumeratorCancellation] CancellationToken ct = default)
    {
        while (true)
        {
            yield return frame;
            await Task.Delay(20, ct);
        }
    }

    internal static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting");
            await Task.Delay(10);
        }
    }
}
