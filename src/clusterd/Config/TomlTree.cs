using Tomlyn.Syntax;

namespace Clusterd.Config;

/// <summary>A 1-based line and column in the config file.</summary>
internal readonly record struct SourcePosition(int Line, int Column)
{
    public static readonly SourcePosition Start = new(1, 1);

    /// <summary>Tomlyn positions are 0-based; a negative line is its end-of-file sentinel.</summary>
    public static SourcePosition From(TextPosition position, SourcePosition endOfFile) =>
        position.Line < 0 ? endOfFile : new SourcePosition(position.Line + 1, position.Column + 1);
}

/// <summary>
/// One key of a merged TOML table: either a sub-table or a value, with the position of the key that introduced it.
/// </summary>
internal sealed class TomlEntry
{
    public TomlEntry(string key, SourcePosition keyPosition, TomlTable? table, ValueSyntax? value, SourcePosition valuePosition)
    {
        Key = key;
        KeyPosition = keyPosition;
        Table = table;
        Value = value;
        ValuePosition = valuePosition;
    }

    public string Key { get; }
    public SourcePosition KeyPosition { get; }

    /// <summary>Set for <c>[a.b]</c> headers, dotted-key prefixes and inline tables.</summary>
    public TomlTable? Table { get; }

    /// <summary>Set for scalars and arrays. Null with a null <see cref="Table"/> means an array of tables (<c>[[x]]</c>).</summary>
    public ValueSyntax? Value { get; }

    public SourcePosition ValuePosition { get; }
    public bool IsTableArray => Table is null && Value is null;
}

/// <summary>
/// A TOML table merged from every place that contributes to it (<c>[groups.web]</c>, <c>groups.web.x = 1</c>,
/// <c>web = { ... }</c>, <c>[groups.web.env]</c>), so validation sees one table per name, in document order, while every
/// key and value keeps its own position.
/// </summary>
internal sealed class TomlTable
{
    private readonly Dictionary<string, TomlEntry> _byKey = new(StringComparer.Ordinal);
    private readonly List<TomlEntry> _entries = [];

    public IReadOnlyList<TomlEntry> Entries => _entries;

    public bool TryGet(string key, out TomlEntry entry) => _byKey.TryGetValue(key, out entry!);

    public void Add(TomlEntry entry)
    {
        _byKey.Add(entry.Key, entry);
        _entries.Add(entry);
    }

    public bool Contains(string key) => _byKey.ContainsKey(key);
}

/// <summary>Folds Tomlyn's lossless syntax tree into <see cref="TomlTable"/>s.</summary>
internal sealed class TomlTreeBuilder
{
    private readonly SourcePosition _endOfFile;
    private readonly List<(SourcePosition Position, string Message)> _conflicts = [];

    private TomlTreeBuilder(SourcePosition endOfFile) => _endOfFile = endOfFile;

    /// <summary>
    /// Redefinitions the merge had to skip. TOML forbids them and Tomlyn's validation reports them first, so these
    /// only matter if Tomlyn ever lets one through.
    /// </summary>
    public IReadOnlyList<(SourcePosition Position, string Message)> Conflicts => _conflicts;

    public static (TomlTable Root, TomlTreeBuilder Builder) Build(DocumentSyntax document, SourcePosition endOfFile)
    {
        var builder = new TomlTreeBuilder(endOfFile);
        var root = new TomlTable();
        foreach (var keyValue in document.KeyValues)
        {
            builder.AddKeyValue(root, keyValue);
        }
        foreach (var tableSyntax in document.Tables)
        {
            if (tableSyntax.Name is null)
            {
                continue; // A header Tomlyn could not parse: already a syntax error.
            }
            var segments = builder.Segments(tableSyntax.Name);
            if (segments.Count == 0)
            {
                continue;
            }
            var parent = builder.Descend(root, segments, segments.Count - 1);
            if (parent is null)
            {
                continue;
            }
            var (name, position) = segments[^1];
            if (tableSyntax is TableArraySyntax)
            {
                if (!parent.Contains(name))
                {
                    parent.Add(new TomlEntry(name, position, table: null, value: null, position));
                }
                continue;
            }
            var table = builder.GetOrAddTable(parent, name, position);
            if (table is null)
            {
                continue;
            }
            foreach (var keyValue in tableSyntax.Items)
            {
                builder.AddKeyValue(table, keyValue);
            }
        }
        return (root, builder);
    }

    private void AddKeyValue(TomlTable table, KeyValueSyntax keyValue)
    {
        if (keyValue.Key is null || keyValue.Value is null)
        {
            return; // Incomplete line: Tomlyn reported the syntax error.
        }
        var segments = Segments(keyValue.Key);
        if (segments.Count == 0)
        {
            return;
        }
        var parent = Descend(table, segments, segments.Count - 1);
        if (parent is null)
        {
            return;
        }
        var (name, position) = segments[^1];
        if (parent.Contains(name))
        {
            _conflicts.Add((position, $"key '{name}' is defined twice; remove one of the definitions"));
            return;
        }
        if (keyValue.Value is InlineTableSyntax inline)
        {
            var inner = new TomlTable();
            parent.Add(new TomlEntry(name, position, inner, value: null, From(inline.Span.Start)));
            foreach (var item in inline.Items)
            {
                if (item.KeyValue is not null)
                {
                    AddKeyValue(inner, item.KeyValue);
                }
            }
            return;
        }
        parent.Add(new TomlEntry(name, position, table: null, keyValue.Value, From(keyValue.Value.Span.Start)));
    }

    /// <summary>Walks (creating implicit tables) through the first <paramref name="count"/> segments.</summary>
    private TomlTable? Descend(TomlTable table, List<(string Name, SourcePosition Position)> segments, int count)
    {
        var current = table;
        for (var i = 0; i < count && current is not null; i++)
        {
            current = GetOrAddTable(current, segments[i].Name, segments[i].Position);
        }
        return current;
    }

    private TomlTable? GetOrAddTable(TomlTable parent, string name, SourcePosition position)
    {
        if (parent.TryGet(name, out var existing))
        {
            if (existing.Table is not null)
            {
                return existing.Table;
            }
            _conflicts.Add((position, $"'{name}' is already defined as a value, it cannot also be a table; remove one of the definitions"));
            return null;
        }
        var table = new TomlTable();
        parent.Add(new TomlEntry(name, position, table, value: null, position));
        return table;
    }

    private List<(string Name, SourcePosition Position)> Segments(KeySyntax key)
    {
        var segments = new List<(string, SourcePosition)>();
        if (!TryAddSegment(segments, key.Key))
        {
            return [];
        }
        foreach (var dotted in key.DotKeys)
        {
            if (!TryAddSegment(segments, dotted.Key))
            {
                return [];
            }
        }
        return segments;
    }

    private bool TryAddSegment(List<(string, SourcePosition)> segments, BareKeyOrStringValueSyntax? key)
    {
        var name = key switch
        {
            BareKeySyntax bare => bare.Key?.Text,
            StringValueSyntax quoted => quoted.Value,
            _ => null,
        };
        if (name is null || key is null)
        {
            return false;
        }
        segments.Add((name, From(key.Span.Start)));
        return true;
    }

    private SourcePosition From(TextPosition position) => SourcePosition.From(position, _endOfFile);
}
