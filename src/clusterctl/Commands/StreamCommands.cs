using System.CommandLine;
using Clusterd.Protocol.Messages;
using Clusterctl.Connection;
using Clusterctl.Output;

using ProtocolCommands = Clusterd.Protocol.Messages.Commands;

namespace Clusterctl.Commands;

/// <summary>
/// events and logs: a backlog, then with --follow every new frame until Ctrl-C or until clusterd ends the stream.
/// Both end with exit 0 either way: stopping a follower is the normal way to use one.
/// </summary>
internal static class StreamCommands
{
    /// <summary><c>clusterctl events [--follow] [--since SEQ]</c> → <c>{"command":"events","since":40,"follow":true}</c>.</summary>
    public static Command Events(CliContext cli)
    {
        var follow = FollowOption("Keep printing new events until Ctrl-C");
        var since = new Option<long?>("--since")
        {
            Description = "Only events after this sequence number (each line starts with its seq, so you can resume where you left off)",
            HelpName = "SEQ",
        };
        var command = new Command("events", "Print the lifecycle journal: fork, online, listening, exit, restart, backoff, failed")
        {
            follow, since,
        };
        command.SetAction((parseResult, cancellationToken) => RunAsync(cli, parseResult, follow, (output, connection, ct) =>
        {
            var json = parseResult.GetValue(GlobalOptions.Json);
            var request = new Request { Command = ProtocolCommands.Events, Since = parseResult.GetValue(since), Follow = parseResult.GetValue(follow) };
            return FollowAsync(output, connection, request, async frame =>
            {
                foreach (var e in frame.Events ?? [])
                {
                    await output.Out.WriteLineAsync(json ? StreamRenderer.EventJson(e) : StreamRenderer.Event(e, output.StdoutIsTerminal));
                }
            }, ct);
        }, cancellationToken));
        return command;
    }

    /// <summary>
    /// <c>clusterctl logs web/1 -n 50 --stderr --since 10m --follow</c> →
    /// <c>{"command":"logs","group":"web","slot":1,"stream":"stderr","after":"...","lines":50,"follow":true}</c>;
    /// without a group, every group's lines (each line names its group/slot). <c>--reopen</c> → <c>{"command":"reopen_logs"}</c>.
    /// </summary>
    public static Command Logs(CliContext cli)
    {
        var target = GroupArguments.OptionalTarget(cli, "The group, or one slot of it (web/2); all groups when left out");
        var follow = FollowOption("Keep printing new output until Ctrl-C");
        var lines = new Option<int?>("--lines", "-n") { Description = "How many recent lines to print first (default: the daemon's choice)", HelpName = "N" };
        lines.Validators.Add(result =>
        {
            // Read the token, not the value: a validator runs even when conversion failed, and the value would throw.
            if (result.Tokens.Count > 0 && int.TryParse(result.Tokens[0].Value, System.Globalization.CultureInfo.InvariantCulture, out var n) && n < 0)
            {
                result.AddError("--lines must be >= 0");
            }
        });
        var stderr = new Option<bool>("--stderr") { Description = "Only the workers' stderr lines" };
        var stdout = new Option<bool>("--stdout") { Description = "Only the workers' stdout lines" };
        var since = new Option<DateTimeOffset?>("--since")
        {
            Description = "Only lines from this long ago on (30s, 10m, 2h, 1d) or since a time (2026-11-30T17:00:00Z)",
            HelpName = "AGE|TIME",
            CustomParser = result =>
            {
                var text = result.Tokens.Count == 0 ? "" : result.Tokens[0].Value;
                if (LogSince.TryParse(text, DateTimeOffset.UtcNow, out var after))
                {
                    return after;
                }
                result.AddError($"--since '{text}' is neither an age (30s, 10m, 2h, 1d) nor a time (2026-11-30T17:00:00Z)");
                return null;
            },
        };
        var reopen = new Option<bool>("--reopen")
        {
            Description = "Ask clusterd to reopen its worker log files (after logrotate moved them), as SIGUSR1 does; prints nothing else",
        };
        var command = new Command("logs", "Print the stdout/stderr lines clusterd captured from the workers (of one group, or of all)")
        {
            target, follow, lines, stderr, stdout, since, reopen,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(stderr) && result.GetValue(stdout))
            {
                result.AddError("--stderr and --stdout exclude each other; leave both out for both streams");
            }
        });
        command.SetAction((parseResult, cancellationToken) => parseResult.GetValue(reopen)
            ? cli.RunAsync(parseResult, async (connection, ct) => // a change: one host at a time, as every change
            {
                var response = await connection.RequestAsync(new Request { Command = ProtocolCommands.ReopenLogs }, ct);
                await cli.Out.WriteLineAsync(response.Message ?? "reopened");
                return ExitCodes.Ok;
            }, cancellationToken)
            : RunAsync(cli, parseResult, follow, (output, connection, ct) =>
            {
                var json = parseResult.GetValue(GlobalOptions.Json);
                var chosen = parseResult.GetValue(target);
                var request = new Request
                {
                    Command = ProtocolCommands.Logs,
                    Group = chosen?.Group,
                    Slot = chosen?.Slot,
                    Stream = parseResult.GetValue(stderr) ? "stderr" : parseResult.GetValue(stdout) ? "stdout" : null,
                    After = parseResult.GetValue(since),
                    Lines = parseResult.GetValue(lines),
                    Follow = parseResult.GetValue(follow),
                };
                return FollowAsync(output, connection, request, async frame =>
                {
                    foreach (var line in frame.Logs ?? [])
                    {
                        await output.Out.WriteLineAsync(json ? StreamRenderer.LogJson(line) : StreamRenderer.Log(line, output.StdoutIsTerminal));
                    }
                }, ct);
            }, cancellationToken));
        return command;
    }

    private static Option<bool> FollowOption(string description) => new("--follow", "-f") { Description = description };

    /// <summary>A backlog is read from every --host; a follow never ends, so it stays on one host (a terminal per host).</summary>
    private static Task<int> RunAsync(CliContext cli, ParseResult parseResult, Option<bool> follow,
        Func<CliContext, DaemonConnection, CancellationToken, Task<int>> body, CancellationToken cancellationToken) =>
        parseResult.GetValue(follow)
            ? cli.RunAsync(parseResult, (connection, ct) => body(cli, connection, ct), cancellationToken)
            : cli.RunOnEachAsync(parseResult, body, cancellationToken);

    private static async Task<int> FollowAsync(CliContext cli, DaemonConnection connection, Request request, Func<Response, Task> print,
        CancellationToken ct)
    {
        try
        {
            await foreach (var frame in connection.StreamAsync(request, ct))
            {
                await print(frame);
                // Frames can be minutes apart; whoever reads a pipe should see each as soon as it arrives.
                await cli.Out.FlushAsync(ct);
            }
        }
        catch (CliException ex) when (request.Follow && ex.ExitCode == ExitCodes.System && ex.InnerException is Clusterd.Protocol.ProtocolException)
        {
            // clusterd going away (a restart, a shutdown) ends a follow the way EOF ends `tail -f` on a removed file: say so, exit 0.
            await cli.Err.WriteLineAsync($"clusterctl: clusterd at {connection.Address} closed the stream");
        }
        return ExitCodes.Ok;
    }
}
