using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Clusterctl.Connection;

namespace Clusterctl;

/// <summary>The options every command accepts (they are recursive: <c>clusterctl status --json</c> and <c>clusterctl --json status</c> both work).</summary>
internal static class GlobalOptions
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    public static readonly Option<string?> Socket = new("--socket", "-s")
    {
        Description = "Path of clusterd's control socket (default: $CLUSTERD_SOCKET, else /run/clusterd/clusterd.sock as root, "
            + "else $XDG_RUNTIME_DIR/clusterd.sock)",
        HelpName = "PATH",
        Recursive = true,
    };

    public static readonly Option<bool> Json = new("--json")
    {
        Description = "Print the daemon's answer as JSON (one object; JSON lines for events and logs)",
        Recursive = true,
    };

    public static readonly Option<SshHost[]> Host = new("--host", "-H")
    {
        Description = "Drive clusterd on other machines over SSH: ssh://[user@]host[:port]. Repeat it, or give a comma list, to run a "
            + "read command on each; with it, --socket names the socket there (default: $CLUSTERD_HOST)",
        HelpName = "URL",
        Recursive = true,
        Arity = ArgumentArity.OneOrMore,
        CustomParser = ParseHosts,
    };

    /// <summary>
    /// The hosts --host names, none if it is not given. Asked for the value of an array option that was not given,
    /// System.CommandLine makes its empty default with Array.CreateInstance, whose type lookup costs every command ~9
    /// page faults.
    /// </summary>
    public static SshHost[] NamedHosts(ParseResult parseResult) =>
        parseResult.GetResult(Host) is null ? [] : parseResult.GetValue(Host) ?? [];

    // Nullable rather than a DefaultValueFactory: help would print the default as "00:00:05".
    public static readonly Option<TimeSpan?> Timeout = new("--timeout")
    {
        Description = "How long to wait for the connection to the socket, e.g. 500ms, 5s, 1m; a bare number is seconds (default: 5s)",
        HelpName = "DURATION",
        Recursive = true,
        CustomParser = ParseDuration,
    };

    private static TimeSpan? ParseDuration(ArgumentResult result)
    {
        var text = result.Tokens.Count == 0 ? "" : result.Tokens[0].Value;
        if (TryParseDuration(text, out var value))
        {
            return value;
        }
        result.AddError($"'{text}' is not a duration; use e.g. 500ms, 5s or 1m");
        return DefaultTimeout;
    }

    private static SshHost[] ParseHosts(ArgumentResult result)
    {
        if (TryParseHosts(result.Tokens.Select(t => t.Value), out var hosts, out var error))
        {
            return hosts;
        }
        result.AddError(error);
        return [];
    }

    /// <summary>Each text may be a comma list; the same host named twice is asked once.</summary>
    internal static bool TryParseHosts(IEnumerable<string> texts, out SshHost[] hosts, out string error)
    {
        var parsed = new List<SshHost>();
        foreach (var text in texts.SelectMany(t => t.Split(',', StringSplitOptions.TrimEntries)))
        {
            if (!SshHost.TryParse(text, out var host, out error))
            {
                hosts = [];
                return false;
            }
            if (!parsed.Contains(host))
            {
                parsed.Add(host);
            }
        }
        hosts = [.. parsed];
        error = "";
        return true;
    }

    internal static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = default;
        var (number, scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 0.001),
            _ when text.EndsWith('s') => (text[..^1], 1.0),
            _ when text.EndsWith('m') => (text[..^1], 60.0),
            _ => (text, 1.0),
        };
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount) || amount <= 0)
        {
            return false;
        }
        value = TimeSpan.FromSeconds(amount * scale);
        return true;
    }

    /// <summary>$CLUSTERD_SOCKET, else the platform default that clusterd also uses.</summary>
    public static string DefaultSocket()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(Clusterd.Protocol.SocketPaths.EnvironmentVariable);
        return string.IsNullOrEmpty(fromEnvironment) ? Clusterd.Protocol.SocketPaths.Default() : fromEnvironment;
    }
}
