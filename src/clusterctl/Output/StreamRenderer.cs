using System.Globalization;
using System.Text;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;

namespace Clusterctl.Output;

/// <summary>
/// One line per journal event or captured output line: greppable, and stable enough to diff. For a terminal, the text
/// that comes from the daemon is escaped (<see cref="TerminalText"/>).
/// </summary>
internal static class StreamRenderer
{
    /// <summary><c>42 2025-05-01T12:00:00.000Z web/1 exit pid=4242 gen=3 reason=crashed signal=SIGSEGV</c></summary>
    public static string Event(LifecycleEvent e, bool terminal)
    {
        var line = new StringBuilder()
            .Append(e.Seq.ToString(CultureInfo.InvariantCulture)).Append(' ')
            .Append(Formats.Time(e.Time)).Append(' ')
            .Append(TerminalText.Shown(e.Group, terminal)).Append('/').Append(e.Slot.ToString(CultureInfo.InvariantCulture)).Append(' ')
            .Append(TerminalText.Shown(e.Kind, terminal))
            .Append(" pid=").Append(e.Pid.ToString(CultureInfo.InvariantCulture))
            .Append(" gen=").Append(e.Generation.ToString(CultureInfo.InvariantCulture));
        if (e.Reason is not null)
        {
            var reason = TerminalText.Shown(e.Reason, terminal);
            line.Append(" reason=").Append(reason.Contains(' ', StringComparison.Ordinal) ? $"\"{reason}\"" : reason);
        }
        if (e.ExitCode is { } code)
        {
            line.Append(" code=").Append(code.ToString(CultureInfo.InvariantCulture));
        }
        if (e.Signal is { } signal)
        {
            line.Append(" signal=").Append(Formats.Signal(signal));
        }
        if (e.DelaySeconds is { } delay)
        {
            line.Append(" delay=").Append(Formats.Duration(TimeSpan.FromSeconds(delay)));
        }
        return line.ToString();
    }

    /// <summary><c>2025-05-01T12:00:00.000Z web/1 4242 stdout: listening on :8080</c></summary>
    public static string Log(LogLine l, bool terminal) =>
        string.Create(CultureInfo.InvariantCulture, $"{Formats.Time(l.Time)} {TerminalText.Shown(l.Group, terminal)}/{l.Slot} {l.Pid} {TerminalText.Shown(l.Stream, terminal)}: {TerminalText.Shown(l.Text, terminal)}");

    public static string EventJson(LifecycleEvent e) =>
        System.Text.Json.JsonSerializer.Serialize(e, ProtocolJsonContext.Default.LifecycleEvent);

    public static string LogJson(LogLine l) =>
        System.Text.Json.JsonSerializer.Serialize(l, ProtocolJsonContext.Default.LogLine);
}
