using Clusterd.Protocol;
using Microsoft.Extensions.Logging;

namespace Clusterd.Supervision;

internal sealed partial class Supervisor
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "clusterd started on {ConfigPath}: {Groups} groups, {Workers} workers")]
    private partial void LogStarting(string configPath, int groups, int workers);

    [LoggerMessage(EventId = 27, Level = LogLevel.Information, Message = "a worker and everything it starts are contained by {Containment}")]
    private partial void LogContainment(string containment);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "stopping: asking {Running} workers to stop")]
    private partial void LogStopping(int running);

    private static readonly EventId s_lifecycleEventId = new(10, "Lifecycle");

    /// <summary>
    /// Lifecycle events carry every journal field as structured state (for JSON and journald), but the text line
    /// names only those that are set: "web/0 exit pid=812 gen=1 reason=crashed signal=9".
    /// </summary>
    private void LogLifecycle(LogLevel level, LifecycleEvent e)
    {
        if (_logger.IsEnabled(level))
        {
            _logger.Log(level, s_lifecycleEventId, new LifecycleLogState(e), null, static (s, _) => s.ToString());
        }
    }

    private readonly struct LifecycleLogState(LifecycleEvent e) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public int Count => 11;

        public KeyValuePair<string, object?> this[int index] => index switch
        {
            0 => new("Event", e.Kind),
            1 => new("Group", e.Group),
            2 => new("Slot", e.Slot),
            3 => new("Pid", e.Pid),
            4 => new("Generation", e.Generation),
            5 => new("Seq", e.Seq),
            6 => new("Reason", e.Reason),
            7 => new("ExitCode", e.ExitCode),
            8 => new("Signal", e.Signal),
            9 => new("DelaySeconds", e.DelaySeconds),
            10 => new("{OriginalFormat}", "{Group}/{Slot} {Event} pid={Pid} gen={Generation}"),
            _ => throw new ArgumentOutOfRangeException(nameof(index)),
        };

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            for (var i = 0; i < Count; i++)
            {
                yield return this[i];
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString()
        {
            var text = FormattableString.Invariant($"{e.Group}/{e.Slot} {e.Kind} pid={e.Pid} gen={e.Generation}");
            if (e.Reason is not null)
            {
                text += $" reason={e.Reason}";
            }
            if (e.ExitCode is int code)
            {
                text += FormattableString.Invariant($" code={code}");
            }
            if (e.Signal is int signal)
            {
                text += FormattableString.Invariant($" signal={signal}");
            }
            if (e.DelaySeconds is double delay)
            {
                text += FormattableString.Invariant($" delay={delay:0.###}s");
            }
            return text;
        }
    }

    [LoggerMessage(EventId = 11, Level = LogLevel.Debug, Message = "{Group}/{Slot} pid={Pid} changed {From} -> {To}: {Why}")]
    private partial void LogStateChanged(string group, int slot, int pid, WorkerState from, WorkerState to, string why);

    [LoggerMessage(EventId = 12, Level = LogLevel.Error,
        Message = "{Group}/{Slot}: {Input} arrived in state {State}; this probably indicates a bug in clusterd")]
    private partial void LogIgnoredInput(string group, int slot, WorkerInput input, WorkerState state);

    [LoggerMessage(EventId = 14, Level = LogLevel.Error,
        Message = "handling {Event} failed; carrying on without it. This probably indicates a bug in clusterd")]
    private partial void LogEventFailed(Exception e, string @event);

    [LoggerMessage(EventId = 15, Level = LogLevel.Error,
        Message = "recovering from a failed event failed too; carrying on. This probably indicates a bug in clusterd")]
    private partial void LogRecoveryFailed(Exception e);

    [LoggerMessage(EventId = 16, Level = LogLevel.Warning,
        Message = "{Group}/{Slot}: a spawn completed after the slot had given up on it (ready_timeout); killing its process {Pid}")]
    private partial void LogKillingStaleSpawn(string group, int slot, int pid);

    [LoggerMessage(EventId = 13, Level = LogLevel.Warning, Message = "{Group}/{Slot}: could not send signal {Signal} to pid {Pid}")]
    private partial void LogSignalFailed(string group, int slot, int pid, int signal);

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "{Group}/{Slot} pid={Pid} status: {Status}")]
    private partial void LogWorkerStatus(string group, int slot, int pid, string status);

    [LoggerMessage(EventId = 21, Level = LogLevel.Information, Message = "{Group}/{Slot} pid={Pid} says it is stopping")]
    private partial void LogWorkerStopping(string group, int slot, int pid);

    [LoggerMessage(EventId = 23, Level = LogLevel.Warning,
        Message = "the service manager passed a socket named '{Name}' that matches no group's listen address; closed it")]
    private partial void LogUnclaimedSocket(string name);

    [LoggerMessage(EventId = 25, Level = LogLevel.Information,
        Message = "rolling restarts of reuseport groups steer new connections away from the worker being replaced (BPF), which then has drain_delay to finish; connections queued for a worker that dies go to the others")]
    private partial void LogSteeringAvailable();

    [LoggerMessage(EventId = 26, Level = LogLevel.Information,
        Message = "rolling restarts cannot steer new connections away from the worker being replaced ({Why}; it takes root, or CAP_BPF, on Linux >= 5.14): workers that do not drain on their stop signal may lose requests in flight, and connections queued for a worker that dies wait for its replacement")]
    private partial void LogSteeringUnavailable(string why);

    [LoggerMessage(EventId = 24, Level = LogLevel.Warning,
        Message = "{Group}: cannot steer new connections away from retired workers any more ({Why}); rolling restarts now signal them as soon as their replacement is ready, and connections queued for a dead worker wait for its replacement")]
    private partial void LogSteeringFailed(string group, string why);
}
