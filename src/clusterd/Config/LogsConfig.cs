using System.Globalization;

namespace Clusterd.Config;

/// <summary>Where a group's worker lines go (docs/logging.md).</summary>
internal enum LogTarget
{
    /// <summary>The journal when clusterd runs under journald (JOURNAL_STREAM is set), else the console.</summary>
    Auto,
    Journal,
    Console,
    File,
}

/// <summary>How clusterd writes its console: <c>text</c> for people, <c>json</c> (one object per line) for collectors.</summary>
internal enum LogFormat { Text, Json }

/// <summary><c>rate_limit = "1000/s"</c>: lines a worker may write per second, with <paramref name="Burst"/> lines of credit.</summary>
internal sealed record LogRateLimit(double LinesPerSecond, int Burst)
{
    /// <summary>In the unit it was likely written in: "1/h" is not "0/s".</summary>
    public string Describe()
    {
        var (count, unit) = LinesPerSecond switch
        {
            >= 1 => (LinesPerSecond, 's'),
            >= 1.0 / 60 => (LinesPerSecond * 60, 'm'),
            _ => (LinesPerSecond * 3600, 'h'),
        };
        return string.Create(CultureInfo.InvariantCulture, $"{count:0.###}/{unit}, burst {Burst}");
    }
}

/// <summary>
/// <c>[logs]</c> (defaults for all groups) merged with <c>[groups.NAME.logs]</c>. A reload applies these in place:
/// the capture and the sinks are clusterd's, so no worker is restarted for them.
/// </summary>
/// <param name="File">The path template (<c>{group}</c>, <c>{slot}</c>), or null for the default (<see cref="Logging.LogPaths"/>).</param>
/// <param name="RateLimit">Null: no limit.</param>
internal sealed record LogsConfig(LogTarget Target, string? File, long MaxSize, int Keep, bool Compress, LogRateLimit? RateLimit)
{
    public const long DefaultMaxSize = 10L << 20;
    public const int DefaultKeep = 5;

    /// <summary>Below this a file would rotate every few hundred lines.</summary>
    public const long MinMaxSize = 64L << 10;

    /// <summary>Each rotated file is one more name to shift at every rotation; 100 covers any retention that size alone does not.</summary>
    public const int MaxKeep = 100;

    public static readonly LogsConfig Default = new(LogTarget.Auto, null, DefaultMaxSize, DefaultKeep, Compress: true, RateLimit: null);

    /// <summary>The settings an operator would compare across a reload, in config syntax.</summary>
    public string Describe() =>
        $"target {Target.ToString().ToLowerInvariant()}, file {File ?? "(default)"}, max_size {ByteSize.Format(MaxSize)}, keep {Keep}, " +
        $"compress {(Compress ? "true" : "false")}, rate_limit {RateLimit?.Describe() ?? "(none)"}";
}
