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

    /// <summary><c>clusterctl logs web/1 -n 50 --follow</c> → <c>{"command":"logs","group":"web","slot":1,"lines":50,"follow":true}</c>.</summary>
    public static Command Logs(CliContext cli)
    {
        var target = GroupArguments.Target(cli, "The group, or one slot of it (web/2)");
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
        var command = new Command("logs", "Print the stdout/stderr lines clusterd captured from a group's workers") { target, follow, lines };
        command.SetAction((parseResult, cancellationToken) => RunAsync(cli, parseResult, follow, (output, connection, ct) =>
        {
            var json = parseResult.GetValue(GlobalOptions.Json);
            var (group, slot) = parseResult.GetRequiredValue(target);
            var request = new Request
            {
                Command = ProtocolCommands.Logs,
                Group = group,
                Slot = slot,
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
