using Microsoft.Extensions.Logging;

namespace Clusterd.Control;

/// <summary>
/// The control socket's audit trail: who changed what, and who was refused. It has a logger category of its own,
/// <see cref="Category"/>, so that under journald its lines go out as entries with <c>CLUSTERD_AUDIT=1</c>. journald's
/// rate limit is per unit and priority class, not per category: docs/logging.md says what keeps workers from using it up.
/// </summary>
internal sealed partial class ControlAudit(ILogger logger)
{
    public const string Category = "clusterd.audit";

    [LoggerMessage(EventId = 310, Level = LogLevel.Information, Message = "control: uid {Uid} (pid {Pid}) runs {Command} {Arguments}")]
    public partial void Ran(uint uid, int pid, string command, string arguments);

    [LoggerMessage(EventId = 311, Level = LogLevel.Warning, Message = "control: uid {Uid} (pid {Pid}) was refused {Command}: permission denied")]
    public partial void Denied(uint uid, int pid, string command);

    [LoggerMessage(EventId = 313, Level = LogLevel.Warning,
        Message = "control: uid {Uid} (pid {Pid}) is in neither [control] read_group nor admin_group; its connection was refused")]
    public partial void ConnectionDenied(uint uid, int pid);
}
