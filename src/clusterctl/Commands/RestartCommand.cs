using System.CommandLine;
using Clusterd.Protocol.Messages;
using Clusterctl.Output;

using ProtocolCommands = Clusterd.Protocol.Messages.Commands;

namespace Clusterctl.Commands;

/// <summary>
/// <c>clusterctl restart GROUP|all [--max-surge N] [--max-unavailable N]</c> →
/// <c>{"command":"restart","group":"web","max_surge":1}</c>. The daemon answers when the rollout ends; progress frames
/// (<c>more</c>) it sends meanwhile are printed as they come, so a long rollout is not silent.
/// </summary>
internal static class RestartCommand
{
    public static Command Create(CliContext cli)
    {
        var group = GroupArguments.Group(cli, "The group to restart, or 'all'", allowAll: true);
        var maxSurge = NonNegative("--max-surge", "How many extra workers may run above the desired count during the rollout (default: the group's config)");
        var maxUnavailable = NonNegative("--max-unavailable", "How many workers may be not ready at once during the rollout (default: the group's config)");
        var command = new Command("restart", "Rolling restart: replace every worker of a group (or all groups) with a new generation")
        {
            group, maxSurge, maxUnavailable,
        };
        command.SetAction((parseResult, cancellationToken) => cli.RunAsync(parseResult, async (connection, ct) =>
        {
            var json = parseResult.GetValue(GlobalOptions.Json);
            var name = parseResult.GetRequiredValue(group);
            var request = new Request
            {
                Command = ProtocolCommands.Restart,
                Group = name,
                MaxSurge = parseResult.GetValue(maxSurge),
                MaxUnavailable = parseResult.GetValue(maxUnavailable),
            };
            await foreach (var frame in connection.StreamAsync(request, ct))
            {
                if (frame.More)
                {
                    if (json || !string.IsNullOrEmpty(frame.Message))
                    {
                        await ResultWriter.WriteAsync(cli, json, frame, "");
                    }
                    continue;
                }
                await ResultWriter.WriteAsync(cli, json, frame, name == "all" ? "restarted all groups" : $"restarted {name}");
            }
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    internal static Option<int?> NonNegative(string name, string description)
    {
        var option = new Option<int?>(name) { Description = description, HelpName = "N" };
        option.Validators.Add(result =>
        {
            // Read the token, not the value: a validator runs even when conversion failed, and the value would throw.
            if (result.Tokens.Count > 0 && int.TryParse(result.Tokens[0].Value, System.Globalization.CultureInfo.InvariantCulture, out var n) && n < 0)
            {
                result.AddError($"{name} must be >= 0");
            }
        });
        return option;
    }
}
