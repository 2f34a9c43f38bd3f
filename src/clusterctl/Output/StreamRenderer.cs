using System.Globalization;
using System.Text;
using Clusterd.Protocol;
using Clusterd.Protocol.Messages;

namespace Clusterctl.Output;

/// <summary>One line per journal event or captured output line: greppable, and stable enough to diff.</summary>
internal static class StreamRenderer
{
    /// <summary><c>42 2025-05-01T12:00:00.000Z web/1 exit pid=4242 gen=3 reason=crashed signal=SIGSEGV</c></summary>
    public static string Event(LifecycleEvent e)
    {
        var line = new StringBuilder()
            .Append(e.Seq.ToString(CultureInfo.InvariantCulture)).Append(' ')
            .Append(Formats.Time(e.Time)).Append(' ')
            .Append(e.Group).Append('/').Append(e.Slot.ToString(CultureInfo.InvariantCulture)).Append(' ')
            .Append(e.Kind)
            .Append(" pid=").Append(e.Pid.ToString(CultureInfo.InvariantCulture))
            .Append(" gen=").Append(e.Generation.ToString(CultureInfo.InvariantCulture));
        if (e.Reason is not null)
        {
            line.Append(" reason=").Append(e.Reason.Contains(' ', StringComparison.Ordinal) ? $"\"{e.Reason}\"" : e.Reason);
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
    public static string Log(LogLine l) =>
        Formats.Invariant($"{Formats.Time(l.Time)} {l.Group}/{l.Slot} {l.Pid} {l.Stream}: {l.Text}");

    public static string EventJson(LifecycleEvent e) =>
        System.Text.Json.JsonSerializer.Serialize(e, ProtocolJsonContext.Default.LifecycleEvent);

    public static string LogJson(LogLine l) =>
        System.Text.Json.JsonSerializer.Serialize(l, ProtocolJsonContext.Default.LogLine);
}
