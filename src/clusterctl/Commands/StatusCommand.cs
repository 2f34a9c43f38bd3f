using System.CommandLine;
using System.Text.Json;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;
using Clusterctl.Connection;
using Clusterctl.Output;

using ProtocolCommands = Clusterd.Protocol.Messages.Commands;

namespace Clusterctl.Commands;

/// <summary>
/// <c>clusterctl status [GROUP]</c> → <c>{"command":"status","group":...}</c> → <see cref="Response.Cluster"/>, in one or
/// more pages that <see cref="StatusData.Join"/> puts together.
/// </summary>
internal static class StatusCommand
{
    public static Command Create(CliContext cli)
    {
        var group = GroupArguments.Group(cli, "Show only this group", optional: true);
        var command = new Command("status", "Show each group and its workers: state, pid, uptime, restarts, last exit, CPU, memory") { group };
        command.SetAction((parseResult, cancellationToken) => cli.RunOnEachAsync(parseResult, async (output, connection, ct) =>
        {
            var groupName = parseResult.GetValue(group);
            var status = await FetchAsync(connection, groupName, ct);
            if (groupName is null)
            {
                output.Remember(status);
            }
            if (parseResult.GetValue(GlobalOptions.Json))
            {
                await output.Out.WriteLineAsync(JsonSerializer.Serialize(status, ProtocolJsonContext.Default.StatusData));
            }
            else
            {
                StatusRenderer.Write(output.Out, status, output.Color, output.StdoutIsTerminal);
            }
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    /// <summary>The status of every group, or of one: all its pages, put together.</summary>
    internal static async Task<StatusData> FetchAsync(DaemonConnection connection, string? groupName, CancellationToken ct)
    {
        var pages = new List<StatusData>();
        await foreach (var page in connection.StreamAsync(new Request { Command = ProtocolCommands.Status, Group = groupName }, ct))
        {
            var cluster = page.Cluster ?? throw Missing("cluster");
            if (Unshowable(cluster) is { } problem)
            {
                throw new CliException(ExitCodes.System, $"talking to clusterd at {connection.Address}: malformed response: {problem}");
            }
            pages.Add(cluster);
        }
        return StatusData.Join(pages);
    }

    /// <summary>
    /// What JSON allows, no clusterd sends and clusterctl could not show (null if none): a null where the protocol has a value,
    /// or a state without a name (the reader takes numbers for states, as System.Text.Json does). Refused as a
    /// malformed answer (exit 111) rather than failing later as a bug (101).
    /// </summary>
    internal static string? Unshowable(StatusData status)
    {
        if (status.Groups is null)
        {
            return "the list of groups is null";
        }
        foreach (var group in status.Groups)
        {
            if (group?.Name is null || group.Listen is null || group.Workers is null || group.Listen.Contains(null!))
            {
                return "a group, its name, listen or workers is null";
            }
            if (!group.State.IsDefined())
            {
                return "a group's state has no name";
            }
            foreach (var worker in group.Workers)
            {
                if (worker is null || !worker.State.IsDefined())
                {
                    return "a worker is null, or its state has no name";
                }
            }
        }
        return null;
    }

    /// <summary>An answer without the data its command promises: the daemon speaks a different protocol than we do.</summary>
    internal static CliException Missing(string field) =>
        new(ExitCodes.System, $"clusterd's answer has no '{field}'; is clusterctl from the same release as clusterd?");
}
