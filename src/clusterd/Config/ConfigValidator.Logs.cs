using System.Globalization;
using System.Text.RegularExpressions;
using Tomlyn.Syntax;

namespace Clusterd.Config;

/// <summary>[logs] and [groups.NAME.logs] (docs/config.md, docs/logging.md).</summary>
internal sealed partial class ConfigValidator
{
    private static readonly string[] s_groupLogsKeys = ["target", "file", "max_size", "keep", "compress", "rate_limit", "burst"];
    private static readonly string[] s_logsKeys = [.. s_groupLogsKeys, "format"];
    private static readonly string[] s_filePlaceholders = ["{group}", "{slot}"];

    /// <summary>A burst of a million 4 KiB lines is already more than any log sink takes at once.</summary>
    private const int MaxBurst = 1_000_000;

    private (LogsConfig Logs, LogFormat Format) ValidateLogs(TomlEntry entry)
    {
        const string Prefix = "logs: ";
        var table = _toml.RequireTable(entry, Prefix, "write it as a [logs] table, e.g. target = \"file\"");
        if (table is null)
        {
            return (LogsConfig.Default, LogFormat.Text);
        }
        _toml.CheckUnknownKeys(table, s_logsKeys, Prefix);
        var format = _toml.GetEnum(table, "format", Prefix, LogFormat.Text, ("text", LogFormat.Text), ("json", LogFormat.Json));
        return (GetLogs(table, Prefix, "", LogsConfig.Default), format);
    }

    /// <summary>[groups.NAME.logs]: each key it sets replaces the one from [logs].</summary>
    private LogsConfig GetGroupLogs(TomlTable group, string name, string prefix, LogsConfig defaults)
    {
        if (!group.TryGet("logs", out var entry))
        {
            return defaults;
        }
        var table = _toml.RequireTable(entry, prefix, $"write it as a [groups.{name}.logs] table, e.g. target = \"file\"", "logs");
        if (table is null)
        {
            return defaults;
        }
        if (table.TryGet("format", out var format))
        {
            _toml.Error(format.KeyPosition, $"{prefix}'logs.format' sets how clusterd writes its whole console, so it cannot differ per group; move it to the [logs] table");
        }
        _toml.CheckUnknownKeys(table, [.. s_groupLogsKeys, "format"], prefix, "logs.");
        return GetLogs(table, prefix, "logs.", defaults);
    }

    private LogsConfig GetLogs(TomlTable table, string prefix, string keyPrefix, LogsConfig defaults)
    {
        var target = _toml.GetEnum(table, "target", prefix, defaults.Target,
            ("journal", LogTarget.Journal), ("console", LogTarget.Console), ("file", LogTarget.File));
        var file = GetLogFile(table, prefix, keyPrefix) ?? defaults.File;
        var maxSize = GetLogSize(table, prefix, keyPrefix) ?? defaults.MaxSize;
        var keep = _toml.GetInteger(table, "keep", prefix, defaults.Keep, 0, LogsConfig.MaxKeep, "e.g. keep = 5", keyPrefix);
        var compress = defaults.Compress;
        if (table.TryGet("compress", out var compressEntry))
        {
            if (compressEntry.Value is BooleanValueSyntax b)
            {
                compress = b.Value;
            }
            else
            {
                _toml.Error(compressEntry.ValuePosition, $"{prefix}'{keyPrefix}compress' must be true or false (got {TomlReader.Describe(compressEntry)}); write e.g. compress = true");
            }
        }
        var rateLimit = GetRateLimit(table, prefix, keyPrefix, defaults.RateLimit);
        return new LogsConfig(target, file, maxSize, keep, compress, rateLimit);
    }

    private string? GetLogFile(TomlTable table, string prefix, string keyPrefix)
    {
        const string Example = "e.g. file = \"/var/log/clusterd/{group}.log\"";
        var file = _toml.GetString(table, "file", prefix, Example, keyPrefix);
        if (file is null || !table.TryGet("file", out var entry))
        {
            return null;
        }
        string? problem = null;
        if (!file.StartsWith('/'))
        {
            problem = "must be an absolute path";
        }
        else if (file.EndsWith('/'))
        {
            problem = "names a directory; name the file in it";
        }
        else if (file.Any(char.IsControl))
        {
            problem = "contains a control character";
        }
        else if (Placeholders().Matches(file).Select(m => m.Value).FirstOrDefault(p => Array.IndexOf(s_filePlaceholders, p) < 0) is { } unknown)
        {
            problem = $"has the unknown placeholder {unknown} (only {{group}} and {{slot}} are filled in)";
        }
        if (problem is null)
        {
            return file;
        }
        _toml.Error(entry.ValuePosition, $"{prefix}'{keyPrefix}file' {problem} (got \"{file}\"); {Example}");
        return null;
    }

    private long? GetLogSize(TomlTable table, string prefix, string keyPrefix)
    {
        if (!table.TryGet("max_size", out var entry))
        {
            return null;
        }
        if (entry.Value is not StringValueSyntax { Value: { } text })
        {
            _toml.Error(entry.ValuePosition, $"{prefix}'{keyPrefix}max_size' must be a size string (got {TomlReader.Describe(entry)}); {ByteSize.Hint}");
            return null;
        }
        if (!ByteSize.TryParse(text, out var bytes, out var error))
        {
            _toml.Error(entry.ValuePosition, $"{prefix}'{keyPrefix}max_size' is not a valid size: {error}");
            return null;
        }
        if (bytes < LogsConfig.MinMaxSize)
        {
            _toml.Error(entry.ValuePosition, $"{prefix}'{keyPrefix}max_size' must be at least {ByteSize.Format(LogsConfig.MinMaxSize)} (got \"{text}\"); a smaller file would rotate every few hundred lines");
            return null;
        }
        return bytes;
    }

    /// <summary><c>rate_limit = "1000/s"</c> (per s, m or h) and <c>burst</c> (default: the rate's count).</summary>
    private LogRateLimit? GetRateLimit(TomlTable table, string prefix, string keyPrefix, LogRateLimit? defaults)
    {
        const string Example = "e.g. rate_limit = \"1000/s\"";
        var rate = defaults;
        if (table.TryGet("rate_limit", out var entry))
        {
            rate = null;
            if (entry.Value is not StringValueSyntax { Value: { } text })
            {
                _toml.Error(entry.ValuePosition, $"{prefix}'{keyPrefix}rate_limit' must be a string like \"1000/s\" (got {TomlReader.Describe(entry)}); {Example}");
            }
            else if (RateText().Match(text) is not { Success: true } match
                || !int.TryParse(match.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < 1)
            {
                _toml.Error(entry.ValuePosition, $"{prefix}'{keyPrefix}rate_limit' \"{text}\" is not a count of lines per s, m or h; {Example}");
            }
            else
            {
                var seconds = match.Groups[2].Value switch { "s" => 1, "m" => 60, _ => 3600 };
                rate = new LogRateLimit((double)count / seconds, count);
            }
        }
        if (!table.TryGet("burst", out var burstEntry))
        {
            return rate;
        }
        var burst = _toml.GetInteger(table, "burst", prefix, rate?.Burst ?? 1, 1, MaxBurst, "e.g. burst = 2000", keyPrefix);
        if (rate is null && !table.TryGet("rate_limit", out _) && defaults is null)
        {
            _toml.Error(burstEntry.KeyPosition, $"{prefix}'{keyPrefix}burst' needs a rate_limit to add credit to; add {Example}, or remove burst");
        }
        return rate is null ? null : rate with { Burst = burst };
    }

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Placeholders();

    [GeneratedRegex(@"^\s*([0-9]+)\s*/\s*(s|m|h)\s*$")]
    private static partial Regex RateText();
}
