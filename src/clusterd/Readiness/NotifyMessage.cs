using System.Text;
using System.Text.Unicode;

namespace Clusterd.Readiness;

/// <summary>
/// What a worker asks for in sd_notify datagrams (sd_notify(3)): parsed here, off the supervisor loop, and applied
/// by the supervisor to the worker the sender is attributed to. Several datagrams of one sender fold into one message
/// with <see cref="Then"/>: the latest of each kind is all that counts.
/// </summary>
internal readonly record struct NotifyMessage(bool Ready, bool Stopping, bool WatchdogPing, bool WatchdogTrigger, string? Status)
{
    private const int DescribedStatusLength = 80;

    /// <summary>Nothing clusterd acts on (e.g. only MAINPID=, BARRIER=1 or FDSTORE=1).</summary>
    public bool IsEmpty => this == default;

    /// <summary>
    /// Reads newline-separated assignments; unknown ones are ignored. Returns false for a datagram systemd refuses too:
    /// one with a NUL byte. A STATUS= that is not UTF-8 is ignored, as systemd ignores it; the last STATUS= wins.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> datagram, out NotifyMessage message)
    {
        message = default;
        if (datagram.Contains((byte)0))
        {
            return false;
        }
        foreach (var range in datagram.Split((byte)'\n'))
        {
            var line = datagram[range];
            if (line.SequenceEqual("READY=1"u8))
            {
                message = message with { Ready = true };
            }
            else if (line.SequenceEqual("STOPPING=1"u8))
            {
                message = message with { Stopping = true };
            }
            else if (line.SequenceEqual("WATCHDOG=1"u8))
            {
                message = message with { WatchdogPing = true };
            }
            else if (line.SequenceEqual("WATCHDOG=trigger"u8))
            {
                message = message with { WatchdogTrigger = true };
            }
            else if (line.StartsWith("STATUS="u8) && Utf8.IsValid(line["STATUS="u8.Length..]))
            {
                message = message with { Status = Encoding.UTF8.GetString(line["STATUS="u8.Length..]) };
            }
        }
        return true;
    }

    /// <summary>This message followed by <paramref name="later"/>: every request of either, the later STATUS= if it has one.</summary>
    public NotifyMessage Then(NotifyMessage later) => new(
        Ready || later.Ready,
        Stopping || later.Stopping,
        WatchdogPing || later.WatchdogPing,
        WatchdogTrigger || later.WatchdogTrigger,
        later.Status ?? Status);

    /// <summary>For logs: "READY=1 STATUS=…", the status cut short.</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        if (Ready)
        {
            parts.Add("READY=1");
        }
        if (Stopping)
        {
            parts.Add("STOPPING=1");
        }
        if (WatchdogPing)
        {
            parts.Add("WATCHDOG=1");
        }
        if (WatchdogTrigger)
        {
            parts.Add("WATCHDOG=trigger");
        }
        if (Status is { } status)
        {
            parts.Add("STATUS=" + (status.Length > DescribedStatusLength ? status[..DescribedStatusLength] + "…" : status));
        }
        return string.Join(' ', parts);
    }
}
