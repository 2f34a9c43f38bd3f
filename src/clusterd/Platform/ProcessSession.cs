using System.Buffers.Text;
using System.Runtime.Versioning;

namespace Clusterd.Platform;

/// <summary>
/// The session a process belongs to (proc(5): /proc/PID/stat, field 6). Every worker leads its own session (the shim
/// calls setsid), so a process in a worker's session is that worker or one of its descendants, e.g. `systemd-notify`
/// run from the worker's shell, which sends as its own pid.
/// </summary>
[SupportedOSPlatform("linux")]
internal static class ProcessSession
{
    // "pid (comm) state ppid pgrp session ...": comm is at most 64 bytes, so the session field ends well within this.
    private const int StatPrefixSize = 256;

    // After the ")" that ends comm: state (field 3), ppid, pgrp, session (field 6).
    private const int SessionFieldAfterComm = 3;

    /// <summary>The session id of <paramref name="pid"/>, or 0 when the process is gone (or hidden from clusterd).</summary>
    public static int Of(int pid)
    {
        Span<byte> stat = stackalloc byte[StatPrefixSize];
        var length = KernelFile.ReadProcStat(pid, stat);
        return length > 0 && TryParseSession(stat[..length], out var session) ? session : 0;
    }

    /// <summary>
    /// Reads the session field of a stat line. comm may itself hold spaces and ')', so fields are counted from the
    /// last ')'. Internal for tests.
    /// </summary>
    internal static bool TryParseSession(ReadOnlySpan<byte> stat, out int session)
    {
        session = 0;
        var close = stat.LastIndexOf((byte)')');
        if (close < 0)
        {
            return false;
        }
        var fields = stat[(close + 1)..].TrimStart((byte)' ');
        var index = 0;
        foreach (var range in fields.Split((byte)' '))
        {
            if (index++ == SessionFieldAfterComm)
            {
                var text = fields[range];
                return Utf8Parser.TryParse(text, out session, out var consumed) && consumed == text.Length && session > 0;
            }
        }
        return false;
    }
}
