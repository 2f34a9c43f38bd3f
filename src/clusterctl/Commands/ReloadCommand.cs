using System.CommandLine;
using System.Text.Json;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;
using Clusterctl.Connection;

using ProtocolCommands = Clusterd.Protocol.Messages.Commands;

namespace Clusterctl.Commands;

/// <summary>
/// <c>clusterctl reload [--dry-run]</c> → <c>{"command":"reload","dry_run":true}</c> → <see cref="Response.Plan"/>, or an
/// error with <see cref="Response.ConfigErrors"/>, which are printed one per line (<c>FILE:LINE:COL: ...</c>) like
/// <c>clusterd --check-config</c> does, so an editor can jump to each.
/// </summary>
internal static class ReloadCommand
{
    public static Command Create(CliContext cli)
    {
        var dryRun = new Option<bool>("--dry-run", "-n") { Description = "Only show what a reload would change; change nothing" };
        var command = new Command("reload", "Re-read the config file and apply it: add, remove and roll groups as needed") { dryRun };
        command.SetAction((parseResult, cancellationToken) => cli.RunAsync(parseResult, async (connection, ct) =>
        {
            var isDryRun = parseResult.GetValue(dryRun);
            var response = await connection.RequestAsync(new Request { Command = ProtocolCommands.Reload, DryRun = isDryRun }, ct, allowError: true);
            if (!response.Ok || response.ConfigErrors is { Count: > 0 })
            {
                foreach (var line in response.ConfigErrors ?? [])
                {
                    await cli.Err.WriteLineAsync(line);
                }
                if (response.Ok)
                {
                    throw new CliException(ExitCodes.No, "the config has errors; nothing was changed");
                }
                throw DaemonConnection.DaemonError(response);
            }
            if (parseResult.GetValue(GlobalOptions.Json))
            {
                await cli.Out.WriteLineAsync(response.Plan is null
                    ? JsonSerializer.Serialize(response, ProtocolJsonContext.Default.Response)
                    : JsonSerializer.Serialize(response.Plan, ProtocolJsonContext.Default.ReloadPlan));
                return ExitCodes.Ok;
            }
            await cli.Out.WriteLineAsync(isDryRun ? "dry run: nothing was changed" : response.Message ?? "reloaded");
            if (response.Plan is { } plan)
            {
                WritePlan(cli.Out, plan);
            }
            return ExitCodes.Ok;
        }, cancellationToken));
        return command;
    }

    /// <summary>
    /// One line per group, marked like a diff: <c>+ api  added</c>, <c>- old  removed</c>,
    /// <c>~ web  rolling restart: command changed; env.NODE_ENV changed</c>, <c>= jobs  unchanged</c>.
    /// </summary>
    internal static void WritePlan(TextWriter writer, ReloadPlan plan)
    {
        var rows = new List<(char Mark, string Name, string What)>();
        rows.AddRange(plan.Added.Select(n => ('+', n, "added")));
        rows.AddRange(plan.Removed.Select(n => ('-', n, "removed")));
        rows.AddRange(plan.Changed.Select(c => ('~', c.Name, (c.Rolls ? "rolling restart: " : "in place: ") + string.Join("; ", c.Changes))));
        rows.AddRange(plan.Unchanged.Select(n => ('=', n, "unchanged")));
        if (rows.Count == 0)
        {
            writer.WriteLine("no groups");
        }
        var width = rows.Count == 0 ? 0 : rows.Max(r => r.Name.Length);
        foreach (var (mark, name, what) in rows)
        {
            writer.WriteLine($"{mark} {name.PadRight(width)}  {what}");
        }
        foreach (var note in plan.Notes ?? [])
        {
            writer.WriteLine($"note: {note}");
        }
    }
}
