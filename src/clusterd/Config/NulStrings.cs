using Tomlyn.Syntax;

namespace Clusterd.Config;

/// <summary>
/// Finds keys and string values holding a NUL character. TOML allows one as <c>"\u0000"</c>, but no path, argument or
/// environment variable can: the OS would end the string there and silently drop the rest.
/// </summary>
internal sealed class NulStrings : SyntaxVisitor
{
    private readonly SourcePosition _endOfFile;
    private readonly List<(SourcePosition Position, string Value)> _found = [];

    private NulStrings(SourcePosition endOfFile) => _endOfFile = endOfFile;

    /// <summary>Every quoted key and string value with a NUL, in document order.</summary>
    public static List<(SourcePosition Position, string Value)> Find(DocumentSyntax document, SourcePosition endOfFile)
    {
        var finder = new NulStrings(endOfFile);
        finder.Visit(document);
        return finder._found;
    }

    public override void Visit(StringValueSyntax stringValue)
    {
        ArgumentNullException.ThrowIfNull(stringValue);
        if (stringValue.Value is { } value && value.Contains('\0', StringComparison.Ordinal))
        {
            _found.Add((SourcePosition.From(stringValue.Span.Start, _endOfFile), value));
        }
        base.Visit(stringValue);
    }
}
