using System.Globalization;
using Tomlyn.Syntax;

namespace Clusterd.Config;

/// <summary>
/// Typed reads from the merged TOML tables for <see cref="ConfigValidator"/>. Each getter returns the value, or records a
/// located error ("what is wrong; how to fix") and returns the default, so one bad key never hides the next.
/// <c>prefix</c> arguments name the entity (<c>group 'web': </c>); <c>keyPrefix</c> names a sub-table key
/// (<c>backoff.</c>).
/// </summary>
internal sealed class TomlReader
{
    private readonly string _file;
    private readonly List<ConfigError> _errors;

    public TomlReader(string file, List<ConfigError> errors)
    {
        _file = file;
        _errors = errors;
    }

    public void Error(SourcePosition position, string message) =>
        _errors.Add(new ConfigError(_file, position.Line, position.Column, message));

    public TomlTable? RequireTable(TomlEntry entry, string prefix, string fix, string? name = null)
    {
        if (entry.Table is not null)
        {
            return entry.Table;
        }
        Error(entry.ValuePosition, $"{prefix}'{name ?? entry.Key}' must be a table (got {Describe(entry)}); {fix}");
        return null;
    }

    public void CheckUnknownKeys(TomlTable table, string[] known, string prefix, string keyPrefix = "")
    {
        foreach (var entry in table.Entries)
        {
            if (Array.IndexOf(known, entry.Key) >= 0)
            {
                continue;
            }
            var suggestion = Suggest(entry.Key, known);
            Error(entry.KeyPosition, suggestion is not null
                ? $"{prefix}unknown key '{keyPrefix}{entry.Key}'; did you mean '{keyPrefix}{suggestion}'?"
                : $"{prefix}unknown key '{keyPrefix}{entry.Key}'; remove it (valid keys: {string.Join(", ", known)})");
        }
    }

    public string? GetString(TomlTable table, string key, string prefix, string example, string keyPrefix = "")
    {
        var name = keyPrefix + key;
        if (!table.TryGet(key, out var entry))
        {
            return null;
        }
        if (entry.Value is not StringValueSyntax { Value: { } text })
        {
            Error(entry.ValuePosition, $"{prefix}'{name}' must be a string (got {Describe(entry)}); {example}");
            return null;
        }
        if (text.Length == 0)
        {
            Error(entry.ValuePosition, $"{prefix}'{name}' must not be empty; remove the line to use the default, or {example}");
            return null;
        }
        return text;
    }

    public bool? GetBoolean(TomlTable table, string key, string prefix)
    {
        if (!table.TryGet(key, out var entry))
        {
            return null;
        }
        if (entry.Value is BooleanValueSyntax b)
        {
            return b.Value;
        }
        var fix = entry.Value is StringValueSyntax { Value: "true" or "false" } s ? $"drop the quotes: {key} = {s.Value}" : $"write {key} = true or {key} = false";
        Error(entry.ValuePosition, $"{prefix}'{key}' must be true or false (got {Describe(entry)}); {fix}");
        return null;
    }

        public int GetInteger(TomlTable table, string key, string prefix, int defaultValue, int min, int max, string example, string keyPrefix = "")
    {
        var name = keyPrefix + key;
        if (!table.TryGet(key, out var entry))
        {
            return defaultValue;
        }
        if (entry.Value is not IntegerValueSyntax i)
        {
            Error(entry.ValuePosition, $"{prefix}'{name}' must be an integer (got {Describe(entry)}); write {example}");
            return defaultValue;
        }
        if (i.Value < min)
        {
            Error(entry.ValuePosition, $"{prefix}'{name}' must be >= {min} (got {i.Value}); write {example}");
            return defaultValue;
        }
        if (i.Value > max)
        {
            Error(entry.ValuePosition, $"{prefix}'{name}' must be <= {max} (got {i.Value}); write {example}");
            return defaultValue;
        }
        return (int)i.Value;
    }

    public TimeSpan GetDuration(TomlTable table, string key, string prefix, TimeSpan defaultValue, bool allowZero, string keyPrefix = "")
    {
        if (!table.TryGet(key, out var entry))
        {
            return defaultValue;
        }
        var name = keyPrefix + key;
        TimeSpan value;
        switch (entry.Value)
        {
            case StringValueSyntax { Value: { } text }:
                if (!Duration.TryParse(text, out value, out var error))
                {
                    Error(entry.ValuePosition, $"{prefix}'{name}' is not a valid duration: {error}");
                    return defaultValue;
                }
                break;
            case IntegerValueSyntax { Value: 0 }:
                value = TimeSpan.Zero;
                break;
            case IntegerValueSyntax or FloatValueSyntax:
                Error(entry.ValuePosition, $"{prefix}'{name}' must be a duration string with a unit (got {Describe(entry)}); {Duration.Hint}");
                return defaultValue;
            default:
                Error(entry.ValuePosition, $"{prefix}'{name}' must be a duration string (got {Describe(entry)}); {Duration.Hint}");
                return defaultValue;
        }
        if (!allowZero && value == TimeSpan.Zero)
        {
            Error(entry.ValuePosition, $"{prefix}'{name}' must be greater than 0; use e.g. {key} = \"{Duration.Format(defaultValue)}\"");
            return defaultValue;
        }
        return value;
    }

    /// <summary>A size like "512MiB" (<see cref="ByteSize"/>), or null when the key is absent.</summary>
    public long? GetSize(TomlTable table, string key, string prefix)
    {
        if (!table.TryGet(key, out var entry))
        {
            return null;
        }
        if (entry.Value is not StringValueSyntax { Value: { } text })
        {
            Error(entry.ValuePosition, $"{prefix}'{key}' must be a size string (got {Describe(entry)}); {ByteSize.Hint}");
            return null;
        }
        if (!ByteSize.TryParse(text, out var bytes, out var error))
        {
            Error(entry.ValuePosition, $"{prefix}'{key}' is not a valid size: {error}");
            return null;
        }
        if (bytes < 1L << 20)
        {
            Error(entry.ValuePosition, $"{prefix}'{key}' must be at least 1MiB (got \"{text}\"); no worker runs in less");
            return null;
        }
        return bytes;
    }

    public T GetEnum<T>(TomlTable table, string key, string prefix, T defaultValue, params (string Name, T Value)[] choices)
    {
        if (!table.TryGet(key, out var entry))
        {
            return defaultValue;
        }
        var names = choices.Select(c => $"\"{c.Name}\"").ToArray();
        var allowed = names.Length == 2 ? $"{names[0]} or {names[1]}" : $"{string.Join(", ", names[..^1])} or {names[^1]}";
        if (entry.Value is not StringValueSyntax { Value: { } text })
        {
            Error(entry.ValuePosition, $"{prefix}'{key}' must be {allowed} (got {Describe(entry)}); write e.g. {key} = {names[0]}");
            return defaultValue;
        }
        foreach (var (name, value) in choices)
        {
            if (name == text)
            {
                return value;
            }
        }
        var suggestion = Suggest(text, choices.Select(c => c.Name));
        Error(entry.ValuePosition, suggestion is not null
            ? $"{prefix}'{key}' must be {allowed} (got \"{text}\"); did you mean \"{suggestion}\"?"
            : $"{prefix}'{key}' must be {allowed} (got \"{text}\"); write e.g. {key} = {names[0]}");
        return defaultValue;
    }

    /// <summary>The closest candidate within a small edit distance, so typos get a "did you mean" and nonsense does not.</summary>
    public static string? Suggest(string key, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var distance = Levenshtein(key.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }
        // Two edits on a three-letter key would suggest almost anything.
        var limit = Math.Min(2, Math.Max(1, key.Length / 3));
        return bestDistance <= limit ? best : null;
    }

    private static int Levenshtein(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }

    /// <summary>What the user wrote, in words: "an integer 8080", "a table".</summary>
    public static string Describe(TomlEntry entry) =>
        entry.IsTableArray ? "an array of tables" : entry.Table is not null ? "a table" : Describe(entry.Value!);

    public static string Describe(ValueSyntax value) => value switch
    {
        StringValueSyntax s => $"a string \"{s.Value}\"",
        IntegerValueSyntax i => $"an integer {i.Value}",
        FloatValueSyntax => $"a float {ValueText(value)}",
        BooleanValueSyntax b => b.Value ? "a boolean true" : "a boolean false",
        DateTimeValueSyntax => "a date-time",
        ArraySyntax => "an array",
        InlineTableSyntax => "a table",
        _ => "an unsupported value",
    };

    /// <summary>A scalar as TOML would write it, for "quote it: PORT = \"8080\""-style fixes.</summary>
    public static string ValueText(ValueSyntax? value) => value switch
    {
        IntegerValueSyntax i => i.Value.ToString(CultureInfo.InvariantCulture),
        FloatValueSyntax f => f.Value.ToString("0.0###############", CultureInfo.InvariantCulture),
        BooleanValueSyntax b => b.Value ? "true" : "false",
        StringValueSyntax s => s.Value ?? "",
        _ => "",
    };

    /// <summary>Where an array element starts (entries carry their own positions; elements do not).</summary>
    public static SourcePosition Position(SyntaxNode node) => SourcePosition.From(node.Span.Start, SourcePosition.Start);
}
