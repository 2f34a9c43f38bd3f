using Microsoft.Extensions.Logging;

namespace Clusterd.Logging;

/// <summary>
/// What clusterd found about journald at start: its native socket (null when there is none) and whether clusterd's own
/// stdout is connected to it (JOURNAL_STREAM, set by systemd for StandardOutput=journal), which makes the journal
/// the default <c>target</c>.
/// </summary>
internal sealed record LogEnvironment(JournalSink? Journal, bool UnderJournald)
{
    /// <summary>systemd sets JOURNAL_STREAM when a service's stdout or stderr is connected to journald.</summary>
    public static bool JournalStreamSet => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("JOURNAL_STREAM"));

    public static LogEnvironment Detect(ILogger logger)
    {
        var journal = JournalSink.Exists(JournalSink.DefaultSocketPath)
            ? new JournalSink(JournalSink.DefaultSocketPath, logger, TimeProvider.System)
            : null;
        return new LogEnvironment(journal, JournalStreamSet);
    }
}
