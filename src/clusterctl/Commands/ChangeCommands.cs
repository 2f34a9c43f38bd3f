using System.CommandLine;
using System.Globalization;
using Clusterd.Protocol.Messages;
using Clusterctl.Output;

using ProtocolCommands = Clusterd.Protocol.Messages.Commands;

namespace Clusterctl.Commands;

/// <summary>
/// The commands that change one group's desired state and answer with a message: scale, stop, start, signal.
/// Each changes only what clusterd should want; the supervisor's loop then reconciles.
/// </summary>
internal static class ChangeCommands
{
    /// <summary><c>clusterctl scale GROUP N</c> → <c>{"command":"scale","group":"web","count":4}</c>.</summary>
    public static Command Scale(CliContext cli)
    {
        var group = GroupArguments.Group(cli, "The group to scale");
        var count = new Argument<int>("N") { HelpName = "N", Description = "The number of workers the group should run (0 keeps the group but runs none)" };
        count.Validators.Add(result =>
        {
            // Read the token, not the value: a validator runs even when conversion failed, and the value would throw.
            if (result.Tokens.Count > 0 && int.TryParse(result.Tokens[0].Value, System.Globalization.CultureInfo.InvariantCulture, out var n) && n < 0)
            {
                result.AddError("N must be >= 0");
            }
        });
        var command = new Command("scale", "Set how many workers a group runs; extra workers are stopped gracefully, missing ones started")
        {
            group, count,
        };
        SetSimpleAction(cli, command, parseResult =>
        {
            var name = parseResult.GetRequiredValue(group);
            var n = parseResult.GetValue(count);
            return (new Request { Command = ProtocolCommands.Scale, Group = name, Count = n }, string.Create(CultureInfo.InvariantCulture, $"scaled {name} to {n}"));
        });
        return command;
    }

    /// <summary><c>clusterctl stop GROUP</c> → <c>{"command":"stop","group":"web"}</c>.</summary>
    public static Command Stop(CliContext cli)
    {
        var group = GroupArguments.Group(cli, "The group to stop");
        var command = new Command("stop", "Stop every worker of a group gracefully and keep it stopped until 'start'") { group };
        SetSimpleAction(cli, command, parseResult =>
        {
            var name = parseResult.GetRequiredValue(group);
            return (new Request { Command = ProtocolCommands.Stop, Group = name }, $"stopped {name}");
        });
        return command;
    }

    /// <summary><c>clusterctl start GROUP</c> → <c>{"command":"start","group":"web"}</c>.</summary>
    public static Command Start(CliContext cli)
    {
        var group = GroupArguments.Group(cli, "The group to start");
        var command = new Command("start", "Start a stopped or failed group (a failed group's restart counters are reset)") { group };
        SetSimpleAction(cli, command, parseResult =>
        {
            var name = parseResult.GetRequiredValue(group);
            return (new Request { Command = ProtocolCommands.Start, Group = name }, $"started {name}");
        });
        return command;
    }

    /// <summary><c>clusterctl signal web/2 HUP</c> → <c>{"command":"signal","group":"web","slot":2,"signal":"HUP"}</c>.</summary>
    public static Command Signal(CliContext cli)
    {
        var target = GroupArguments.Target(cli, "The group, or one slot of it (web/2)");
        var signal = new Argument<string>("SIGNAL") { HelpName = "SIGNAL", Description = "A signal name: TERM, SIGHUP, USR1... (clusterd maps it to its OS's number)" };
        signal.CompletionSources.Add("HUP", "INT", "QUIT", "TERM", "KILL", "USR1", "USR2", "WINCH", "CONT", "STOP", "TSTP", "ALRM", "ABRT");
        signal.Validators.Add(result =>
        {
            var text = result.Tokens.Count == 0 ? "" : result.Tokens[0].Value;
            if (text.Length == 0 || !text.All(char.IsAsciiLetterOrDigit))
            {
                result.AddError($"'{text}' is not a signal name; use e.g. TERM, HUP or SIGUSR1");
            }
        });
        var command = new Command("signal", "Send a signal to every worker of a group, or to one slot") { target, signal };
        SetSimpleAction(cli, command, parseResult =>
        {
            var (group, slot) = parseResult.GetRequiredValue(target);
            // Names travel as text: signal numbers differ between Linux and macOS, and only the daemon knows its OS.
            var name = parseResult.GetRequiredValue(signal).ToUpperInvariant();
            var where = slot is { } s ? string.Create(CultureInfo.InvariantCulture, $"{group}/{s}") : group;
            return (new Request { Command = ProtocolCommands.Signal, Group = group, Slot = slot, Signal = name }, $"sent {name} to {where}");
        });
        return command;
    }

    private static void SetSimpleAction(CliContext cli, Command command, Func<ParseResult, (Request Request, string Done)> build)
    {
        command.SetAction((parseResult, cancellationToken) => cli.RunAsync(parseResult, async (connection, ct) =>
        {
            var (request, done) = build(parseResult);
            var response = await connection.RequestAsync(request, ct);
            await ResultWriter.WriteAsync(cli, parseResult.GetValue(GlobalOptions.Json), response, done);
            return ExitCodes.Ok;
        }, cancellationToken));
    }
}
