using System.Text.RegularExpressions;
using Tomlyn;
using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace Clusterd.Config;

/// <summary>
/// Reads clusterd.toml into a validated <see cref="ClusterConfig"/>, or into the complete list of located errors.
/// The file is walked through Tomlyn's lossless syntax tree (no reflection, NativeAOT-safe) so that every key and value
/// keeps its line and column.
/// </summary>
internal static partial class ConfigLoader
{
    /// <summary>Arrays and inline tables within one another: far more than any clusterd setting needs.</summary>
    private const int MaxNesting = 16;

    // Tomlyn's depth counts the value itself as one level.
    private static readonly TomlSerializerOptions s_options = new() { MaxDepth = MaxNesting + 1 };

    /// <summary>Reads and validates the file at <paramref name="path"/>; "auto" workers resolve to the CPUs this process may use.</summary>
    /// <param name="host">The machine's answers about users and groups, or null to skip those checks.</param>
    public static ConfigResult Load(string path, HostFacts? host = null)
    {
        byte[] bytes;
        try
        {
            bytes = ReadAtMost(path, ConfigText.MaxBytes + 1);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            var error = new ConfigError(path, 1, 1, $"cannot read config file '{path}': {ex.Message}; check the path and its permissions");
            return new ConfigResult(null, [error]);
        }
        return Parse(bytes, path, Platform.CpuBudget.Detect(), host);
    }

    /// <summary>The first <paramref name="limit"/> bytes, so that a huge file (or /dev/zero) costs no more than that.</summary>
    private static byte[] ReadAtMost(string path, int limit)
    {
        using var file = File.OpenRead(path);
        var buffer = new byte[limit];
        var length = 0;
        int read;
        while (length < limit && (read = file.Read(buffer, length, limit - length)) > 0)
        {
            length += read;
        }
        return buffer[..length];
    }

    /// <summary>
    /// Validates the file's <paramref name="bytes"/> as if read from <paramref name="path"/>: the size limit and UTF-8
    /// first, then the TOML. Pure, and total: every input gives a config or located errors, never an exception.
    /// </summary>
    public static ConfigResult Parse(ReadOnlySpan<byte> bytes, string path, AvailableCpus cpus, HostFacts? host = null)
    {
        if (!ConfigText.TryDecode(bytes, out var text, out var position, out var error))
        {
            return new ConfigResult(null, [new ConfigError(path, position.Line, position.Column, error)]);
        }
        return Parse(text, path, cpus, host);
    }

    /// <summary>Validates <paramref name="text"/> as if read from <paramref name="path"/>. Pure (no I/O, no environment) unless <paramref name="host"/> asks.</summary>
    public static ConfigResult Parse(string text, string path, AvailableCpus cpus, HostFacts? host = null)
    {
        var endOfFile = EndOfFile(text);
        var errors = new List<ConfigError>();

        // Syntax errors first, without TOML's semantic checks: when the text does not parse, the tree is a guess and
        // checking its keys would only add noise, so report just the syntax errors (like nginx -t does).
        var syntaxOnly = TryParse(text, path, validate: false, errors, endOfFile);
        if (syntaxOnly is null || errors.Count > 0)
        {
            return Fail(errors);
        }

        // Then TOML's own rules (a key or table defined twice), which Tomlyn reports with positions, plus ours.
        var document = TryParse(text, path, validate: true, errors, endOfFile);
        if (document is null)
        {
            return Fail(errors);
        }
        // Like syntax errors, a NUL stops here: no value holding one may reach the schema, where it would be used.
        var withNul = NulStrings.Find(document, endOfFile);
        if (withNul.Count > 0)
        {
            foreach (var (position, value) in withNul)
            {
                errors.Add(new ConfigError(path, position.Line, position.Column,
                    $"\"{value}\" contains a NUL character; remove it (names, paths and arguments end at a NUL, so the rest would be lost)"));
            }
            return Fail(errors);
        }

        var tomlErrors = errors.Count;
        var (root, builder) = TomlTreeBuilder.Build(document, endOfFile);
        if (tomlErrors == 0)
        {
            foreach (var (position, message) in builder.Conflicts)
            {
                errors.Add(new ConfigError(path, position.Line, position.Column, message));
            }
        }

        var config = new ConfigValidator(path, cpus, errors, host).Validate(root);
        return errors.Count == 0 ? new ConfigResult(config with { Source = text }, []) : Fail(errors);
    }

    private static DocumentSyntax? TryParse(string text, string path, bool validate, List<ConfigError> errors, SourcePosition endOfFile)
    {
        try
        {
            // Tomlyn throws ArgumentOutOfRangeException, not a diagnostic, when the text ends inside an escape
            // (a "\" or "\u12" at end of file): it formats end-of-file as a character (found by make fuzz). A final
            // newline changes the meaning of no TOML text, and turns that into a newline in a string, which it reports.
            var document = SyntaxParser.Parse(text.EndsWith('\n') ? text : text + "\n", s_options, path, validate);
            AddDiagnostics(document.Diagnostics, text, path, errors, endOfFile);
            return document;
        }
        catch (TomlException ex)
        {
            // Tomlyn throws instead of collecting for a few limits, and says where for none of them: for nesting
            // depth, find the place ourselves.
            AddDiagnostics(ex.Diagnostics, text, path, errors, endOfFile);
            if (ex.Diagnostics.Count > 0)
            {
                return null;
            }
            if (ConfigText.FindNestingDeeperThan(text, MaxNesting) is { } tooDeep)
            {
                errors.Add(new ConfigError(path, tooDeep.Line, tooDeep.Column,
                    $"arrays and inline tables may nest at most {MaxNesting} deep; flatten this value"));
            }
            else
            {
                errors.Add(new ConfigError(path, 1, 1, $"invalid TOML: {ex.Message}"));
            }
            return null;
        }
    }

    private static void AddDiagnostics(DiagnosticsBag diagnostics, string text, string path, List<ConfigError> errors, SourcePosition endOfFile)
    {
        foreach (var diagnostic in diagnostics)
        {
            if (diagnostic.Kind != DiagnosticMessageKind.Error)
            {
                continue;
            }
            var position = SourcePosition.From(diagnostic.Span.Start, endOfFile);
            // Tomlyn places "unexpected <eof>" for an unclosed array or inline table at offset 0; the problem is at the end.
            // Past the end is the final newline TryParse adds, or the end of file after it: both are the file's end.
            if ((diagnostic.Span.Start.Offset == 0 && text.Length > 0 && diagnostic.Message.Contains("`<eof>`", StringComparison.Ordinal))
                || position.Line > endOfFile.Line || (position.Line == endOfFile.Line && position.Column > endOfFile.Column))
            {
                position = endOfFile;
            }
            errors.Add(new ConfigError(path, position.Line, position.Column, Rewrite(diagnostic.Message)));
        }
    }

    /// <summary>Tomlyn's messages, made single-line and given a fix where we know one.</summary>
    private static string Rewrite(string message)
    {
        var redefined = RedefinedKey().Match(message);
        if (redefined.Success)
        {
            return $"'{redefined.Groups["key"].Value}' is already defined at line {redefined.Groups["line"].Value}; " +
                "TOML allows each key and table once, so merge or remove the duplicate";
        }
        return $"invalid TOML: {message.Replace("␤", "\\n", StringComparison.Ordinal)}";
    }

    [GeneratedRegex(@"^The key `(?<key>.*?)` is already defined at \((?<line>\d+),(?<column>\d+)\)", RegexOptions.Singleline)]
    private static partial Regex RedefinedKey();

    private static SourcePosition EndOfFile(string text)
    {
        var line = 1;
        var lastNewLine = -1;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\n')
            {
                line++;
                lastNewLine = i;
            }
        }
        return new SourcePosition(line, text.Length - lastNewLine);
    }

    /// <summary>Errors in file order, so the output reads top to bottom like a compiler's.</summary>
    private static ConfigResult Fail(List<ConfigError> errors) =>
        new(null, errors.OrderBy(e => e.Line).ThenBy(e => e.Column).ToList());
}
