using System.Globalization;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;

namespace Clusterctl.Output;

/// <summary>
/// The human form of <c>clusterctl status</c>: per group one header line, then its workers as an indented table.
/// <code>
/// web  running  2/2 ready  generation 3  listen 127.0.0.1:8080
///   SLOT  PID    STATE  UPTIME  RESTARTS  LAST-EXIT         CPU    RSS
///   0     41234  ready  3m12s   0         -                 1.25s  24.1 MiB
///   1     41240  ready  45s     2         crashed(SIGSEGV)  0.10s  19.8 MiB
/// </code>
/// </summary>
internal static class StatusRenderer
{
    private static readonly string[] s_headers = ["SLOT", "PID", "STATE", "UPTIME", "RESTARTS", "LAST-EXIT", "CPU", "RSS"];
    private static readonly string[] s_headersWithHealth = [.. s_headers, "HEALTH"];
    private const int StateColumn = 2;

    /// <param name="terminal">Escape the daemon's text for a terminal (<see cref="TerminalText"/>).</param>
    public static void Write(TextWriter writer, StatusData status, bool color, bool terminal)
    {
        if (status.Groups.Count == 0)
        {
            writer.WriteLine("no groups");
            return;
        }
        for (var i = 0; i < status.Groups.Count; i++)
        {
            if (i > 0)
            {
                writer.WriteLine();
            }
            WriteGroup(writer, status.Groups[i], color, terminal);
        }
    }

    /// <summary>A worker's cell in column <paramref name="column"/> of <see cref="s_headersWithHealth"/>.</summary>
    private static ReadOnlySpan<char> Cell(WorkerStatus w, int column, Span<char> scratch, bool terminal) => column switch
    {
        0 => Formats.Integer(w.Slot, scratch),
        1 => w.Pid > 0 ? Formats.Integer(w.Pid, scratch) : Formats.None,
        StateColumn => w.State.Name(),
        3 => Formats.Uptime(w.UptimeSeconds, scratch),
        4 => Formats.Integer(w.Restarts, scratch),
        5 => TerminalText.Shown(Formats.LastExit(w.LastExit, w.LastExitCode, w.LastExitSignal), terminal),
        6 => Formats.CpuSeconds(w.CpuSeconds, scratch),
        7 => Formats.Bytes(w.RssBytes, scratch),
        _ => Formats.Health(w.Health, w.HealthLatencySeconds),
    };

    private static void WriteGroup(TextWriter writer, GroupStatus group, bool color, bool terminal)
    {
        var header = $"{Ansi.Strong(TerminalText.Shown(group.Name, terminal), color)}  {Ansi.Paint(group.State.Name(), Ansi.ForState(group.State), color)}  "
            + string.Create(CultureInfo.InvariantCulture, $"{group.Ready}/{group.Desired} ready  generation {group.Generation}");
        if (group.Listen.Count > 0)
        {
            header += "  listen " + TerminalText.Shown(string.Join(", ", group.Listen), terminal);
        }
        writer.WriteLine(header);
        if (group.Workers.Count == 0)
        {
            writer.WriteLine("  (no workers)");
            return;
        }
        var checkedHealth = group.Workers.Any(w => w.Health is not null); // the column only for groups with a health check
        TableRenderer.Write(writer, checkedHealth ? s_headersWithHealth : s_headers, [.. group.Workers.OrderBy(w => w.Slot)],
            (w, column, scratch) => Cell(w, column, scratch, terminal), "  ", color ? (w, column) => column == StateColumn ? Ansi.ForState(w.State) : null : null);
        foreach (var w in group.Workers.Where(w => w.HealthFailure is not null).OrderBy(w => w.Slot))
        {
            // Why, under the table: a command check's reason ends with its output, which may run to several lines.
            var reason = w.HealthFailure!.Trim().ReplaceLineEndings(" / ");
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  slot {w.Slot} health: ") + TerminalText.Shown(reason, terminal));
        }
    }
}
