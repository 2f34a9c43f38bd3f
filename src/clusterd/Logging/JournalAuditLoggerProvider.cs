using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Clusterd.Logging;

/// <summary>
/// Under journald, the audit lines of control commands (<see cref="Control.ControlAudit.Category"/>) go to the journal
/// natively with <c>CLUSTERD_AUDIT=1</c>, so <c>journalctl -u clusterd CLUSTERD_AUDIT=1</c> is the audit trail
/// (docs/logging.md). Every other category is left to the console. If journald does not take a line, it is written
/// to the console with its priority prefix instead: an audit line is never just lost.
/// </summary>
internal sealed class JournalAuditLoggerProvider(JournalSink journal, TextWriter fallback) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) =>
        categoryName == Control.ControlAudit.Category ? new AuditLogger(journal, fallback) : NullLogger.Instance;

    public void Dispose() => journal.Dispose();

    private sealed class AuditLogger(JournalSink journal, TextWriter fallback) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var message = formatter(state, exception);
            var priority = logLevel switch
            {
                LogLevel.Critical => 2,
                LogLevel.Error => 3,
                LogLevel.Warning => 4,
                LogLevel.Information => 5, // notice: an operator's action, not routine chatter
                _ => 7,
            };
            var entry = new JournalEntry()
                .Add("MESSAGE", message)
                .Add("PRIORITY", priority.ToString(CultureInfo.InvariantCulture))
                .Add("SYSLOG_IDENTIFIER", "clusterd")
                .Add("CLUSTERD_AUDIT", "1");
            if (journal.Send(entry.Bytes) is not null)
            {
                fallback.WriteLine($"<{priority}>{message}");
            }
        }
    }
}
