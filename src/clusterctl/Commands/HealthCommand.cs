using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;
using Clusterctl.Output;

namespace Clusterctl.Commands;

/// <summary>
/// <c>clusterctl health [GROUP]</c>: whether each group has the workers it should, with exit 0 when every one does and 1
/// when any does not, for scripts and for an orchestrator's exec probe (Docker's HEALTHCHECK). Built on status: no
/// protocol command of its own.
/// <code>
/// GROUP  STATE     READY  HEALTHY
/// web    running   2/2    yes
/// jobs   degraded  1/3    no: 1 of 3 ready
/// </code>
/// </summary>
internal static class HealthCommand
{
    private static readonly string[] s_headers = ["GROUP", "STATE", "READY", "HEALTHY"];

    public static Command Create(CliContext cli)
    {
        var group = GroupArguments.Group(cli, "Judge only this group", optional: true);
        var command = new Command("health", "Say whether every group has all its workers ready; exit 0 if so, 1 if not") { group };
        command.SetAction((parseResult, cancellationToken) => cli.RunOnEachAsync(parseResult, async (output, connection, ct) =>
        {
            var status = await StatusCommand.FetchAsync(connection, parseResult.GetValue(group), ct);
            var verdicts = status.Groups.Select(g => (Group: g, Problem: Problem(g))).ToList();
            var healthy = verdicts.All(v => v.Problem is null);
            if (parseResult.GetValue(GlobalOptions.Json))
            {
                await output.Out.WriteLineAsync(Json(healthy, verdicts));
            }
            else
            {
                string[][] rows = [.. verdicts.Select(v => new[]
                {
                    TerminalText.Shown(v.Group.Name, output.StdoutIsTerminal), v.Group.State.Name(),
                    string.Create(CultureInfo.InvariantCulture, $"{v.Group.Ready}/{v.Group.Desired}"), v.Problem is null ? "yes" : $"no: {v.Problem}",
                })];
                TableRenderer.Write(output.Out, s_headers, rows, (row, column, _) => row[column]);
            }
            return healthy ? ExitCodes.Ok : ExitCodes.No;
        }, cancellationToken));
        return command;
    }

    /// <summary>
    /// Why a group is not healthy, or null when it is: every desired worker ready, and the group neither stopped (by
    /// <c>clusterctl stop</c>: it serves nothing) nor failed. A group scaled to 0 and running is healthy: it has what it should.
    /// </summary>
    internal static string? Problem(GroupStatus group) => group switch
    {
        { State: PublicGroupState.Stopped } => "stopped",
        { State: PublicGroupState.Failed } => "failed",
        _ when group.Ready < (group.RequiredReady ?? group.Desired) => string.Create(CultureInfo.InvariantCulture,
            $"{group.Ready} of {group.Desired} ready, {group.RequiredReady ?? group.Desired} needed"),
        _ => null,
    };

    /// <summary><c>{"healthy":false,"groups":[{"name":"web","state":"degraded","ready":1,"desired":2,"healthy":false,"problem":"1 of 2 ready"}]}</c></summary>
    private static string Json(bool healthy, List<(GroupStatus Group, string? Problem)> verdicts)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteBoolean("healthy", healthy);
            writer.WriteStartArray("groups");
            foreach (var (group, problem) in verdicts)
            {
                writer.WriteStartObject();
                writer.WriteString("name", group.Name);
                writer.WriteString("state", group.State.Name());
                writer.WriteNumber("ready", group.Ready);
                writer.WriteNumber("desired", group.Desired);
                writer.WriteBoolean("healthy", problem is null);
                writer.WriteString("problem", problem);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
