using System.Globalization;
using Tomlyn.Syntax;

namespace Clusterd.Config;

/// <summary>
/// Turns the merged TOML tables into a <see cref="ClusterConfig"/>, checking every key against the schema. It never stops at
/// the first problem: every error is recorded with the position of the offending key or value, and a default stands in
/// for a bad value so the rest of the file is still checked.
/// </summary>
internal sealed class ConfigValidator
{
    private static readonly string[] s_topLevelTables = ["control", "metrics", "groups"];
    private static readonly string[] s_controlKeys = ["socket", "group", "admin_group", "read_group"];
    private static readonly string[] s_metricsKeys = ["listen"];
    private static readonly string[] s_backoffKeys = ["initial", "max", "factor"];
    private static readonly string[] s_groupKeys =
    [
        "command", "workers", "listen", "sharing", "ready", "ready_timeout", "min_uptime", "user", "group", "cwd", "env",
        "restart", "backoff", "max_restarts", "restart_window", "stop_signal", "stop_timeout", "watchdog_timeout", "drain_delay",
    ];

    /// <summary>Variables clusterd sets for each worker; letting the config override them would break the fd and readiness contract.</summary>
    private static readonly HashSet<string> s_reservedEnv = new(StringComparer.Ordinal)
    {
        "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "NOTIFY_SOCKET", "SYSTEMD_EXEC_PID",
        "CLUSTERD_GROUP", "CLUSTERD_WORKER", "CLUSTERD_GENERATION",
    };

    public const int MaxWorkers = 4096;
    public static readonly TimeSpan DefaultReadyTimeout = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan DefaultMinUptime = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan DefaultRestartWindow = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan DefaultStopTimeout = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan DefaultDrainDelay = TimeSpan.FromMilliseconds(100);
    public static readonly BackoffConfig DefaultBackoff = new(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30), 2.0);
    public const int DefaultMaxRestarts = 10;

    /// <summary>SO_REUSEPORT load-balances on Linux only; on macOS workers share one listener the daemon owns.</summary>
    public static SharingMode DefaultSharing => OperatingSystem.IsMacOS() ? SharingMode.Shared : SharingMode.ReusePort;

    private readonly string _file;
    private readonly int _processorCount;
    private readonly List<ConfigError> _errors;
    private readonly Dictionary<string, (string Group, SourcePosition Position)> _listenOwners = new(StringComparer.Ordinal);

    public ConfigValidator(string file, int processorCount, List<ConfigError> errors)
    {
        _file = file;
        _processorCount = processorCount;
        _errors = errors;
    }

    public ClusterConfig Validate(TomlTable root)
    {
        var control = new ControlConfig(null, null, null, null);
        var metrics = new MetricsConfig(null);
        var groups = new List<GroupConfig>();
        foreach (var entry in root.Entries)
        {
            switch (entry.Key)
            {
                case "control":
                    control = ValidateControl(entry);
                    break;
                case "metrics":
                    metrics = ValidateMetrics(entry);
                    break;
                case "groups":
                    ValidateGroups(entry, groups);
                    break;
                default:
                    UnknownTopLevel(entry);
                    break;
            }
        }
        return new ClusterConfig(_file, control, metrics, groups);
    }

    private void UnknownTopLevel(TomlEntry entry)
    {
        var suggestion = Suggest(entry.Key, s_topLevelTables);
        if (entry.Table is not null || entry.IsTableArray)
        {
            Error(entry.KeyPosition, suggestion is not null
                ? $"unknown table '{entry.Key}'; did you mean '{suggestion}'?"
                : $"unknown table '{entry.Key}'; valid tables are [control], [metrics] and [groups.NAME]");
        }
        else if (Array.IndexOf(s_groupKeys, entry.Key) >= 0)
        {
            Error(entry.KeyPosition, $"'{entry.Key}' is a group setting but appears outside any group; move it under a [groups.NAME] table");
        }
        else
        {
            Error(entry.KeyPosition, suggestion is not null
                ? $"unknown top-level key '{entry.Key}'; did you mean '{suggestion}'?"
                : $"unknown top-level key '{entry.Key}'; valid tables are [control], [metrics] and [groups.NAME]");
        }
    }

    private ControlConfig ValidateControl(TomlEntry entry)
    {
        var table = RequireTable(entry, "control: ", "write it as a [control] table");
        if (table is null)
        {
            return new ControlConfig(null, null, null, null);
        }
        const string Prefix = "control: ";
        CheckUnknownKeys(table, s_controlKeys, Prefix);
        var socket = GetString(table, "socket", Prefix, "e.g. socket = \"/run/clusterd/clusterd.sock\"");
        if (socket is not null && table.TryGet("socket", out var socketEntry) && !socket.StartsWith('/'))
        {
            Error(socketEntry.ValuePosition, $"{Prefix}'socket' must be an absolute path (got \"{socket}\"); e.g. socket = \"/run/clusterd/clusterd.sock\"");
            socket = null;
        }
        return new ControlConfig(
            socket,
            GetString(table, "group", Prefix, "e.g. group = \"clusterd\""),
            GetString(table, "admin_group", Prefix, "e.g. admin_group = \"clusterd-admin\""),
            GetString(table, "read_group", Prefix, "e.g. read_group = \"clusterd\""));
    }

    private MetricsConfig ValidateMetrics(TomlEntry entry)
    {
        const string Prefix = "metrics: ";
        var table = RequireTable(entry, Prefix, "write it as a [metrics] table");
        if (table is null)
        {
            return new MetricsConfig(null);
        }
        CheckUnknownKeys(table, s_metricsKeys, Prefix);
        var listen = GetString(table, "listen", Prefix, "e.g. listen = \"127.0.0.1:9464\"");
        if (listen is not null && table.TryGet("listen", out var listenEntry))
        {
            if (!ListenAddressParser.TryParse(listen, isWorkerListener: false, out var address, out var error))
            {
                Error(listenEntry.ValuePosition, $"{Prefix}'listen' address \"{listen}\" is invalid: {error}");
                return new MetricsConfig(null);
            }
            if (address!.EndPoint is System.Net.IPEndPoint ip
                && (ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork || ip.Address.Equals(System.Net.IPAddress.Any)))
            {
                // The exporter's HttpListener takes a host name prefix, and serves neither IPv6 literals nor 0.0.0.0.
                Error(listenEntry.ValuePosition, $"{Prefix}'listen' must be a specific IPv4 address (got \"{listen}\"); e.g. listen = \"127.0.0.1:9464\"");
                return new MetricsConfig(null);
            }
        }
        return new MetricsConfig(listen);
    }

    private void ValidateGroups(TomlEntry entry, List<GroupConfig> groups)
    {
        if (entry.IsTableArray)
        {
            Error(entry.KeyPosition, "'groups' must be a table of named groups, not an array of tables; write [groups.NAME] instead of [[groups]]");
            return;
        }
        var table = RequireTable(entry, "", "write each group as a [groups.NAME] table");
        if (table is null)
        {
            return;
        }
        foreach (var groupEntry in table.Entries)
        {
            var group = ValidateGroup(groupEntry);
            if (group is not null)
            {
                groups.Add(group);
            }
        }
    }

    private GroupConfig? ValidateGroup(TomlEntry entry)
    {
        var name = entry.Key;
        var prefix = $"group '{name}': ";
        if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
        {
            Error(entry.KeyPosition, $"group name '{name}' is invalid: use only letters, digits, '_' and '-', e.g. [groups.{Sanitize(name)}]");
        }
        var table = entry.Table;
        if (table is null)
        {
            Error(entry.ValuePosition, $"group '{name}' must be a table (got {Describe(entry)}); write it as a [groups.{name}] table");
            return null;
        }

        CheckUnknownKeys(table, s_groupKeys, prefix);
        var command = GetCommand(table, entry, prefix);
        var workers = GetWorkers(table, prefix);
        var listen = GetListen(table, name, prefix);
        var sharing = GetEnum(table, "sharing", prefix, DefaultSharing,
            ("reuseport", SharingMode.ReusePort), ("shared", SharingMode.Shared));
        var ready = GetEnum(table, "ready", prefix, ReadyMode.Started,
            ("notify", ReadyMode.Notify), ("started", ReadyMode.Started));
        var readyTimeout = GetDuration(table, "ready_timeout", prefix, DefaultReadyTimeout, allowZero: false);
        var minUptime = GetDuration(table, "min_uptime", prefix, DefaultMinUptime, allowZero: true);
        var user = GetString(table, "user", prefix, "e.g. user = \"www-data\"");
        var group = GetString(table, "group", prefix, "e.g. group = \"www-data\"");
        var cwd = GetCwd(table, prefix);
        var env = GetEnv(table, prefix);
        var restart = GetEnum(table, "restart", prefix, RestartMode.Always,
            ("always", RestartMode.Always), ("on-failure", RestartMode.OnFailure), ("never", RestartMode.Never));
        var backoff = GetBackoff(table, prefix);
        var maxRestarts = GetInteger(table, "max_restarts", prefix, DefaultMaxRestarts, 0, int.MaxValue,
            $"e.g. max_restarts = {DefaultMaxRestarts}");
        var restartWindow = GetDuration(table, "restart_window", prefix, DefaultRestartWindow, allowZero: false);
        var (stopSignal, stopSignalName) = GetSignal(table, prefix);
        var stopTimeout = GetDuration(table, "stop_timeout", prefix, DefaultStopTimeout, allowZero: false);
        var watchdogTimeout = GetDuration(table, "watchdog_timeout", prefix, TimeSpan.Zero, allowZero: true);
        var drainDelay = GetDuration(table, "drain_delay", prefix, DefaultDrainDelay, allowZero: true);

        return new GroupConfig(name, command, workers, listen, sharing, ready, readyTimeout, minUptime, user, group, cwd, env,
            restart, backoff, maxRestarts, restartWindow, stopSignal, stopSignalName, stopTimeout, watchdogTimeout, drainDelay);
    }

    private List<string> GetCommand(TomlTable table, TomlEntry groupEntry, string prefix)
    {
        const string Example = "command = [\"/usr/bin/node\", \"server.js\"]";
        if (!table.TryGet("command", out var entry))
        {
            Error(groupEntry.KeyPosition, $"{prefix}'command' is required; add e.g. {Example}");
            return [];
        }
        if (entry.Value is StringValueSyntax)
        {
            Error(entry.ValuePosition, $"{prefix}'command' must be an array of strings, not a string (no shell is involved); use an array, e.g. {Example}");
            return [];
        }
        if (entry.Value is not ArraySyntax array)
        {
            Error(entry.ValuePosition, $"{prefix}'command' must be an array of strings (got {Describe(entry)}); use an array, e.g. {Example}");
            return [];
        }
        var command = new List<string>();
        var index = 0;
        foreach (var item in array.Items)
        {
            if (item.Value is StringValueSyntax s && s.Value is not null)
            {
                if (index == 0 && s.Value.Length == 0)
                {
                    Error(Position(item.Value), $"{prefix}'command' program (the first element) is empty; name the program to run, e.g. {Example}");
                }
                command.Add(s.Value);
            }
            else if (item.Value is not null)
            {
                Error(Position(item.Value), $"{prefix}'command' elements must be strings (got {Describe(item.Value)}); quote it");
            }
            index++;
        }
        if (index == 0)
        {
            Error(entry.ValuePosition, $"{prefix}'command' must not be empty; name the program to run, e.g. {Example}");
        }
        return command;
    }

    private int GetWorkers(TomlTable table, string prefix)
    {
        const string Fix = "set workers = \"auto\" or a positive count";
        if (!table.TryGet("workers", out var entry))
        {
            return 1;
        }
        switch (entry.Value)
        {
            case StringValueSyntax { Value: "auto" }:
                return Math.Clamp(_processorCount, 1, MaxWorkers);
            case IntegerValueSyntax i when i.Value < 1:
                Error(entry.ValuePosition, $"{prefix}'workers' must be >= 1 or \"auto\" (got {i.Value}); {Fix}");
                return 1;
            case IntegerValueSyntax i when i.Value > MaxWorkers:
                Error(entry.ValuePosition, $"{prefix}'workers' must be <= {MaxWorkers} (got {i.Value}); use a smaller count or \"auto\"");
                return 1;
            case IntegerValueSyntax i:
                return (int)i.Value;
            default:
                Error(entry.ValuePosition, $"{prefix}'workers' must be an integer or \"auto\" (got {Describe(entry)}); {Fix}");
                return 1;
        }
    }

    private List<ListenAddress> GetListen(TomlTable table, string group, string prefix)
    {
        const string Example = "listen = [\"127.0.0.1:8080\"]";
        var result = new List<ListenAddress>();
        if (!table.TryGet("listen", out var entry))
        {
            return result;
        }
        if (entry.Value is StringValueSyntax s)
        {
            Error(entry.ValuePosition, $"{prefix}'listen' must be an array of addresses, not a string; write listen = [\"{s.Value}\"]");
            return result;
        }
        if (entry.Value is not ArraySyntax array)
        {
            Error(entry.ValuePosition, $"{prefix}'listen' must be an array of address strings (got {Describe(entry)}); write e.g. {Example}");
            return result;
        }
        var seen = new Dictionary<string, SourcePosition>(StringComparer.Ordinal);
        foreach (var item in array.Items)
        {
            if (item.Value is null)
            {
                continue;
            }
            var position = Position(item.Value);
            if (item.Value is not StringValueSyntax { Value: { } text })
            {
                Error(position, $"{prefix}'listen' entries must be strings (got {Describe(item.Value)}); write e.g. {Example}");
                continue;
            }
            if (!ListenAddressParser.TryParse(text, isWorkerListener: true, out var address, out var error))
            {
                Error(position, $"{prefix}'listen' address \"{text}\" is invalid: {error}");
                continue;
            }
            var identity = ListenAddressParser.Identity(address!);
            if (seen.TryGetValue(identity, out var first))
            {
                Error(position, $"{prefix}'listen' address \"{text}\" is listed twice (first at {first.Line}:{first.Column}); remove the duplicate");
                continue;
            }
            seen.Add(identity, position);
            if (_listenOwners.TryGetValue(identity, out var owner))
            {
                Error(position, $"{prefix}'listen' address \"{text}\" is already used by group '{owner.Group}' (at {owner.Position.Line}:{owner.Position.Column}); give each group its own address");
                continue;
            }
            _listenOwners.Add(identity, (group, position));
            result.Add(address!);
        }
        return result;
    }

    private string? GetCwd(TomlTable table, string prefix)
    {
        var cwd = GetString(table, "cwd", prefix, "e.g. cwd = \"/srv/app\"");
        if (cwd is not null && !cwd.StartsWith('/') && table.TryGet("cwd", out var entry))
        {
            Error(entry.ValuePosition, $"{prefix}'cwd' must be an absolute path (got \"{cwd}\"); write e.g. cwd = \"/{cwd.TrimStart('.', '/')}\"");
            return null;
        }
        return cwd;
    }

    private Dictionary<string, string> GetEnv(TomlTable table, string prefix)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!table.TryGet("env", out var entry))
        {
            return env;
        }
        if (entry.Table is null)
        {
            Error(entry.ValuePosition, $"{prefix}'env' must be a table of strings (got {Describe(entry)}); write e.g. env = {{ NODE_ENV = \"production\" }}");
            return env;
        }
        foreach (var variable in entry.Table.Entries)
        {
            var name = variable.Key;
            if (name.Length == 0 || name.Contains('=', StringComparison.Ordinal) || name.Contains('\0', StringComparison.Ordinal))
            {
                Error(variable.KeyPosition, $"{prefix}env name '{name}' is not a valid environment variable name; use a non-empty name without '='");
                continue;
            }
            if (s_reservedEnv.Contains(name))
            {
                Error(variable.KeyPosition, $"{prefix}env '{name}' is set by clusterd for every worker and cannot be overridden; remove it");
                continue;
            }
            if (variable.Value is StringValueSyntax { Value: { } value })
            {
                env[name] = value;
                continue;
            }
            var fix = variable.Value is IntegerValueSyntax or FloatValueSyntax or BooleanValueSyntax
                ? $"quote it: {name} = \"{ValueText(variable.Value)}\""
                : $"write it as a string, e.g. {name} = \"value\"";
            Error(variable.ValuePosition, $"{prefix}env '{name}' must be a string (got {Describe(variable)}); {fix}");
        }
        return env;
    }

    private BackoffConfig GetBackoff(TomlTable table, string prefix)
    {
        if (!table.TryGet("backoff", out var entry))
        {
            return DefaultBackoff;
        }
        var backoff = RequireTable(entry, prefix, "write e.g. backoff = { initial = \"100ms\", max = \"30s\", factor = 2.0 }", "backoff");
        if (backoff is null)
        {
            return DefaultBackoff;
        }
        CheckUnknownKeys(backoff, s_backoffKeys, prefix, "backoff.");
        var initial = GetDuration(backoff, "initial", prefix, DefaultBackoff.Initial, allowZero: false, "backoff.");
        var max = GetDuration(backoff, "max", prefix, DefaultBackoff.Max, allowZero: false, "backoff.");
        if (max < initial)
        {
            var position = backoff.TryGet("max", out var maxEntry) ? maxEntry.ValuePosition
                : backoff.TryGet("initial", out var initialEntry) ? initialEntry.ValuePosition
                : entry.ValuePosition;
            Error(position, $"{prefix}'backoff.max' ({Duration.Format(max)}) must be >= 'backoff.initial' ({Duration.Format(initial)}); raise max or lower initial");
        }

        var factor = DefaultBackoff.Factor;
        if (backoff.TryGet("factor", out var factorEntry))
        {
            double? value = factorEntry.Value switch
            {
                FloatValueSyntax f => f.Value,
                IntegerValueSyntax i => i.Value,
                _ => null,
            };
            if (value is null)
            {
                Error(factorEntry.ValuePosition, $"{prefix}'backoff.factor' must be a number (got {Describe(factorEntry)}); write e.g. factor = 2.0");
            }
            else if (!double.IsFinite(value.Value) || value.Value < 1.0)
            {
                Error(factorEntry.ValuePosition, $"{prefix}'backoff.factor' must be >= 1.0 (got {ValueText(factorEntry.Value)}); use 2.0 to double the delay after each crash, 1.0 for a constant delay");
            }
            else
            {
                factor = value.Value;
            }
        }
        return new BackoffConfig(initial, max, factor);
    }

    private (int Number, string Name) GetSignal(TomlTable table, string prefix)
    {
        var defaultSignal = (15, "SIGTERM");
        if (!table.TryGet("stop_signal", out var entry))
        {
            return defaultSignal;
        }
        if (entry.Value is not StringValueSyntax { Value: { } name })
        {
            Error(entry.ValuePosition, $"{prefix}'stop_signal' must be a signal name string (got {Describe(entry)}); write e.g. stop_signal = \"SIGTERM\"");
            return defaultSignal;
        }
        if (SignalNames.TryParse(name, out var number, out var canonical))
        {
            return (number, canonical);
        }
        var upper = name.Trim().ToUpperInvariant();
        var suggestion = Suggest(upper.StartsWith("SIG", StringComparison.Ordinal) ? upper : "SIG" + upper, SignalNames.Names);
        Error(entry.ValuePosition, suggestion is not null
            ? $"{prefix}'stop_signal' \"{name}\" is not a known signal; did you mean \"{suggestion}\"?"
            : $"{prefix}'stop_signal' \"{name}\" is not a known signal; use one of {string.Join(", ", SignalNames.Names)}");
        return defaultSignal;
    }

    private T GetEnum<T>(TomlTable table, string key, string prefix, T defaultValue, params (string Name, T Value)[] choices)
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

    private TimeSpan GetDuration(TomlTable table, string key, string prefix, TimeSpan defaultValue, bool allowZero, string keyPrefix = "")
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
                    Error(entry.ValuePosition, $"{prefix}'{name}' is not a valid duration: {error}; {Duration.Hint}");
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

    private int GetInteger(TomlTable table, string key, string prefix, int defaultValue, int min, int max, string example)
    {
        if (!table.TryGet(key, out var entry))
        {
            return defaultValue;
        }
        if (entry.Value is not IntegerValueSyntax i)
        {
            Error(entry.ValuePosition, $"{prefix}'{key}' must be an integer (got {Describe(entry)}); write {example}");
            return defaultValue;
        }
        if (i.Value < min)
        {
            Error(entry.ValuePosition, $"{prefix}'{key}' must be >= {min} (got {i.Value}); write {example}");
            return defaultValue;
        }
        if (i.Value > max)
        {
            Error(entry.ValuePosition, $"{prefix}'{key}' must be <= {max} (got {i.Value}); write {example}");
            return defaultValue;
        }
        return (int)i.Value;
    }

    private string? GetString(TomlTable table, string key, string prefix, string example)
    {
        if (!table.TryGet(key, out var entry))
        {
            return null;
        }
        if (entry.Value is not StringValueSyntax { Value: { } text })
        {
            Error(entry.ValuePosition, $"{prefix}'{key}' must be a string (got {Describe(entry)}); {example}");
            return null;
        }
        if (text.Length == 0)
        {
            Error(entry.ValuePosition, $"{prefix}'{key}' must not be empty; remove the line to use the default, or {example}");
            return null;
        }
        return text;
    }

    private TomlTable? RequireTable(TomlEntry entry, string prefix, string fix, string? name = null)
    {
        if (entry.Table is not null)
        {
            return entry.Table;
        }
        Error(entry.ValuePosition, $"{prefix}'{name ?? entry.Key}' must be a table (got {Describe(entry)}); {fix}");
        return null;
    }

    private void CheckUnknownKeys(TomlTable table, string[] known, string prefix, string keyPrefix = "")
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

    /// <summary>The closest candidate within a small edit distance, so typos get a "did you mean" and nonsense does not.</summary>
    internal static string? Suggest(string key, IEnumerable<string> candidates)
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

    private static string Describe(TomlEntry entry) =>
        entry.IsTableArray ? "an array of tables" : entry.Table is not null ? "a table" : Describe(entry.Value!);

    private static string Describe(ValueSyntax value) => value switch
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

    private static string ValueText(ValueSyntax? value) => value switch
    {
        IntegerValueSyntax i => i.Value.ToString(CultureInfo.InvariantCulture),
        FloatValueSyntax f => f.Value.ToString("0.0###############", CultureInfo.InvariantCulture),
        BooleanValueSyntax b => b.Value ? "true" : "false",
        StringValueSyntax s => s.Value ?? "",
        _ => "",
    };

    private static string Sanitize(string name)
    {
        var chars = name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_').ToArray();
        return chars.Length == 0 ? "web" : new string(chars);
    }

    private static SourcePosition Position(SyntaxNode node) => SourcePosition.From(node.Span.Start, SourcePosition.Start);

    private void Error(SourcePosition position, string message) =>
        _errors.Add(new ConfigError(_file, position.Line, position.Column, message));
}
