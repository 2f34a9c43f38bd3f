using Tomlyn.Syntax;

namespace Clusterd.Config;

/// <summary>
/// Turns the merged TOML tables into a <see cref="ClusterConfig"/>, checking every key against the schema. It never stops at
/// the first problem: every error is recorded with the position of the offending key or value, and a default stands in
/// for a bad value so the rest of the file is still checked.
/// </summary>
internal sealed partial class ConfigValidator
{
    private static readonly string[] s_topLevelTables = ["control", "metrics", "container", "logs", "groups"];
    private static readonly string[] s_controlKeys = ["socket", "group", "admin_group", "read_group"];
    private static readonly string[] s_metricsKeys = ["listen"];
    private static readonly string[] s_containerKeys = ["exit_on_failed"];
    private static readonly string[] s_backoffKeys = ["initial", "max", "factor"];
    /// <summary>A group's notify socket is RUNTIME_DIR/notify/NAME, and a Unix socket path holds at most 107 bytes.</summary>
    private const int MaxGroupName = 64;

    private static readonly string[] s_healthKeys = ["http", "tcp", "command", "interval", "timeout", "failures", "start_period"];
    private static readonly string[] s_groupKeys =
    [
        "command", "workers", "min_ready", "listen", "sharing", "ready", "ready_timeout", "min_uptime", "user", "group", "cwd", "env",
        "restart", "backoff", "max_restarts", "restart_window", "stop_signal", "stop_timeout", "watchdog_timeout", "drain_delay",
        "max_memory", "memory_max", "max_lifetime", "health", "logs",
    ];

    private readonly string _file;
    private readonly AvailableCpus _cpus;
    private readonly HostFacts? _host;
    private readonly TomlReader _toml;
    private readonly Dictionary<string, (string Group, SourcePosition Position)> _listenOwners = new(StringComparer.Ordinal);
    private int _listeningSockets;

    public ConfigValidator(string file, AvailableCpus cpus, List<ConfigError> errors, HostFacts? host = null)
    {
        _file = file;
        _cpus = cpus;
        _host = host;
        _toml = new TomlReader(file, errors);
    }

    public ClusterConfig Validate(TomlTable root)
    {
        var control = new ControlConfig(null, null, null, null);
        var metrics = new MetricsConfig(null);
        var container = ContainerConfig.Default;
        var groups = new List<GroupConfig>();
        // Groups inherit [logs] wherever it appears in the file.
        var (logs, logFormat) = root.TryGet("logs", out var logsEntry) ? ValidateLogs(logsEntry) : (LogsConfig.Default, LogFormat.Text);
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
                case "container":
                    container = ValidateContainer(entry);
                    break;
                case "groups":
                    ValidateGroups(entry, groups, logs);
                    break;
                case "logs":
                    break;
                default:
                    UnknownTopLevel(entry);
                    break;
            }
        }
        return new ClusterConfig(_file, control, metrics, groups, container) { Logs = logs, LogFormat = logFormat };
    }

    private void UnknownTopLevel(TomlEntry entry)
    {
        var suggestion = TomlReader.Suggest(entry.Key, s_topLevelTables);
        if (entry.Table is not null || entry.IsTableArray)
        {
            _toml.Error(entry.KeyPosition, suggestion is not null
                ? $"unknown table '{entry.Key}'; did you mean '{suggestion}'?"
                : $"unknown table '{entry.Key}'; valid tables are [control], [metrics], [container], [logs] and [groups.NAME]");
        }
        else if (Array.IndexOf(s_groupKeys, entry.Key) >= 0)
        {
            _toml.Error(entry.KeyPosition, $"'{entry.Key}' is a group setting but appears outside any group; move it under a [groups.NAME] table");
        }
        else
        {
            _toml.Error(entry.KeyPosition, suggestion is not null
                ? $"unknown top-level key '{entry.Key}'; did you mean '{suggestion}'?"
                : $"unknown top-level key '{entry.Key}'; valid tables are [control], [metrics], [container], [logs] and [groups.NAME]");
        }
    }

    private ControlConfig ValidateControl(TomlEntry entry)
    {
        var table = _toml.RequireTable(entry, "control: ", "write it as a [control] table");
        if (table is null)
        {
            return new ControlConfig(null, null, null, null);
        }
        const string Prefix = "control: ";
        _toml.CheckUnknownKeys(table, s_controlKeys, Prefix);
        var socket = _toml.GetString(table, "socket", Prefix, "e.g. socket = \"/run/clusterd/clusterd.sock\"");
        if (socket is not null && table.TryGet("socket", out var socketEntry) && !socket.StartsWith('/'))
        {
            _toml.Error(socketEntry.ValuePosition, $"{Prefix}'socket' must be an absolute path (got \"{socket}\"); e.g. socket = \"/run/clusterd/clusterd.sock\"");
            socket = null;
        }
        return new ControlConfig(
            socket,
            _toml.GetString(table, "group", Prefix, "e.g. group = \"clusterd\""),
            _toml.GetString(table, "admin_group", Prefix, "e.g. admin_group = \"clusterd-admin\""),
            _toml.GetString(table, "read_group", Prefix, "e.g. read_group = \"clusterd\""));
    }

    private MetricsConfig ValidateMetrics(TomlEntry entry)
    {
        const string Prefix = "metrics: ";
        var table = _toml.RequireTable(entry, Prefix, "write it as a [metrics] table");
        if (table is null)
        {
            return new MetricsConfig(null);
        }
        _toml.CheckUnknownKeys(table, s_metricsKeys, Prefix);
        var listen = _toml.GetString(table, "listen", Prefix, "e.g. listen = \"127.0.0.1:9464\"");
        if (listen is not null && table.TryGet("listen", out var listenEntry))
        {
            if (!ListenAddressParser.TryParse(listen, isWorkerListener: false, out var address, out var error))
            {
                _toml.Error(listenEntry.ValuePosition, $"{Prefix}'listen' address \"{listen}\" is invalid: {error}");
                return new MetricsConfig(null);
            }
            if (address!.EndPoint is System.Net.IPEndPoint { AddressFamily: not System.Net.Sockets.AddressFamily.InterNetwork })
            {
                // .NET's managed HttpListener, which serves the endpoints outside Windows, rejects IPv6 literal prefixes.
                _toml.Error(listenEntry.ValuePosition, $"{Prefix}'listen' must be an IPv4 address, or 0.0.0.0 for every interface (got \"{listen}\"); e.g. listen = \"127.0.0.1:9464\"");
                return new MetricsConfig(null);
            }
        }
        return new MetricsConfig(listen);
    }

    private ContainerConfig ValidateContainer(TomlEntry entry)
    {
        const string Prefix = "container: ";
        var table = _toml.RequireTable(entry, Prefix, "write it as a [container] table");
        if (table is null)
        {
            return ContainerConfig.Default;
        }
        _toml.CheckUnknownKeys(table, s_containerKeys, Prefix);
        return new ContainerConfig(_toml.GetBoolean(table, "exit_on_failed", Prefix));
    }

    private void ValidateGroups(TomlEntry entry, List<GroupConfig> groups, LogsConfig logs)
    {
        if (entry.IsTableArray)
        {
            _toml.Error(entry.KeyPosition, "'groups' must be a table of named groups, not an array of tables; write [groups.NAME] instead of [[groups]]");
            return;
        }
        var table = _toml.RequireTable(entry, "", "write each group as a [groups.NAME] table");
        if (table is null)
        {
            return;
        }
        var index = 0;
        foreach (var groupEntry in table.Entries)
        {
            if (index++ == ClusterConfig.MaxGroups)
            {
                _toml.Error(groupEntry.KeyPosition, $"group '{groupEntry.Key}' is one more than the {ClusterConfig.MaxGroups} groups clusterd supervises; " +
                    "merge groups that run the same program, or give the rest a clusterd of their own");
            }
            var group = ValidateGroup(groupEntry, logs);
            if (group is not null)
            {
                groups.Add(group);
            }
        }
    }

    private GroupConfig? ValidateGroup(TomlEntry entry, LogsConfig defaultLogs)
    {
        var name = entry.Key;
        var prefix = $"group '{name}': ";
        if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
        {
            _toml.Error(entry.KeyPosition, $"group name '{name}' is invalid: use only letters, digits, '_' and '-', e.g. [groups.{Sanitize(name)}]");
        }
        else if (name.Length > MaxGroupName)
        {
            _toml.Error(entry.KeyPosition, $"group name '{name[..16]}...' is {name.Length} characters long; use at most {MaxGroupName} (it names a socket path, a cgroup and a journal field)");
        }
        var table = entry.Table;
        if (table is null)
        {
            _toml.Error(entry.ValuePosition, $"group '{name}' must be a table (got {TomlReader.Describe(entry)}); write it as a [groups.{name}] table");
            return null;
        }

        _toml.CheckUnknownKeys(table, s_groupKeys, prefix);
        var command = GetCommand(table, entry, prefix);
        var (workers, workersSource) = GetWorkers(table, prefix);
        var listen = GetListen(table, name, prefix);
        var sharing = _toml.GetEnum(table, "sharing", prefix, GroupConfig.DefaultSharing,
            ("reuseport", SharingMode.ReusePort), ("shared", SharingMode.Shared));
        CountListeningSockets(table, workers, listen, sharing, prefix);
        var ready = _toml.GetEnum(table, "ready", prefix, ReadyMode.Started,
            ("notify", ReadyMode.Notify), ("started", ReadyMode.Started), ("health", ReadyMode.Health));
        var readyTimeout = _toml.GetDuration(table, "ready_timeout", prefix, GroupConfig.DefaultReadyTimeout, allowZero: false);
        var minUptime = _toml.GetDuration(table, "min_uptime", prefix, GroupConfig.DefaultMinUptime, allowZero: true);
        var user = _toml.GetString(table, "user", prefix, "e.g. user = \"www-data\"");
        var group = _toml.GetString(table, "group", prefix, "e.g. group = \"www-data\"");
        CheckIdentity(table, "user", user, prefix, _host?.CheckUser);
        CheckIdentity(table, "group", group, prefix, _host?.CheckGroup);
        var cwd = GetCwd(table, prefix);
        var env = GetEnv(table, prefix);
        var restart = _toml.GetEnum(table, "restart", prefix, RestartMode.Always,
            ("always", RestartMode.Always), ("on-failure", RestartMode.OnFailure), ("never", RestartMode.Never));
        var backoff = GetBackoff(table, prefix);
        var maxRestarts = _toml.GetInteger(table, "max_restarts", prefix, GroupConfig.DefaultMaxRestarts, 0, GroupConfig.MaxMaxRestarts,
            $"e.g. max_restarts = {GroupConfig.DefaultMaxRestarts}");
        var restartWindow = _toml.GetDuration(table, "restart_window", prefix, GroupConfig.DefaultRestartWindow, allowZero: false);
        var (stopSignal, stopSignalName) = GetSignal(table, prefix);
        var stopTimeout = _toml.GetDuration(table, "stop_timeout", prefix, GroupConfig.DefaultStopTimeout, allowZero: false);
        var watchdogTimeout = _toml.GetDuration(table, "watchdog_timeout", prefix, TimeSpan.Zero, allowZero: true);
        var drainDelay = _toml.GetDuration(table, "drain_delay", prefix, GroupConfig.DefaultDrainDelay, allowZero: true);
        var health = GetWorkerHealth(table, name, prefix, ready);
        var logs = GetGroupLogs(table, name, prefix, defaultLogs);

        var minReady = GetMinReady(table, workers, workersSource, prefix);

        return new GroupConfig(name, command, workers, listen, sharing, ready, readyTimeout, minUptime, user, group, cwd, env,
            restart, backoff, maxRestarts, restartWindow, stopSignal, stopSignalName, stopTimeout, watchdogTimeout, drainDelay, health,
            minReady, workersSource)
        {
            Logs = logs,
        };
    }

    private WorkerHealthConfig GetWorkerHealth(TomlTable table, string name, string prefix, ReadyMode ready)
    {
        var maxMemory = _toml.GetSize(table, "max_memory", prefix);
        var memoryMax = _toml.GetSize(table, "memory_max", prefix);
        if (maxMemory >= memoryMax && table.TryGet("max_memory", out var maxMemoryEntry))
        {
            _toml.Error(maxMemoryEntry.ValuePosition, $"{prefix}'max_memory' ({ByteSize.Format(maxMemory!.Value)}) must be below 'memory_max' ({ByteSize.Format(memoryMax!.Value)}): the kernel would kill the worker before clusterd could replace it; lower max_memory or raise memory_max");
        }
        var maxLifetime = _toml.GetDuration(table, "max_lifetime", prefix, TimeSpan.Zero, allowZero: true);
        var check = GetHealthCheck(table, name, prefix);
        if (ready == ReadyMode.Health && check is null && table.TryGet("ready", out var readyEntry))
        {
            _toml.Error(readyEntry.ValuePosition, $"{prefix}ready = \"health\" needs a health check to pass; add one, e.g. [groups.{name}.health] http = \"/healthz\"");
        }
        return new WorkerHealthConfig(maxMemory, memoryMax, maxLifetime, check);
    }

    /// <summary>[groups.NAME.health]: exactly one of http, tcp, command; then its timings.</summary>
    private HealthCheckConfig? GetHealthCheck(TomlTable group, string name, string prefix)
    {
        if (!group.TryGet("health", out var entry))
        {
            return null;
        }
        var example = $"write it as a [groups.{name}.health] table, e.g. http = \"/healthz\"";
        var table = _toml.RequireTable(entry, prefix, example, "health");
        if (table is null)
        {
            return null;
        }
        _toml.CheckUnknownKeys(table, s_healthKeys, prefix, "health.");
        var kinds = s_healthKeys[..3].Where(k => table.TryGet(k, out _)).ToArray(); // http, tcp, command
        if (kinds.Length != 1)
        {
            var at = kinds.Length > 1 && table.TryGet(kinds[1], out var second) ? second.KeyPosition : entry.KeyPosition;
            _toml.Error(at, kinds.Length == 0
                ? $"{prefix}'health' needs one check: http = \"/path\", tcp = true or command = [\"argv\", ...]"
                : $"{prefix}'health' has both '{kinds[0]}' and '{kinds[1]}'; keep exactly one check");
            return null;
        }
        string? path = null;
        IReadOnlyList<string>? command = null;
        HealthCheckKind kind;
        switch (kinds[0])
        {
            case "http":
                kind = HealthCheckKind.Http;
                path = _toml.GetString(table, "http", prefix, "e.g. http = \"/healthz\"", "health.");
                if (path is not null && (!path.StartsWith('/') || path.Any(c => char.IsControl(c) || c == ' ')) && table.TryGet("http", out var httpEntry))
                {
                    _toml.Error(httpEntry.ValuePosition, $"{prefix}'health.http' must be a path starting with '/' without spaces (got \"{path}\"); e.g. http = \"/healthz\"");
                }
                break;
            case "tcp":
                kind = HealthCheckKind.Tcp;
                if (table.TryGet("tcp", out var tcpEntry) && tcpEntry.Value is not Tomlyn.Syntax.BooleanValueSyntax { Value: true })
                {
                    _toml.Error(tcpEntry.ValuePosition, $"{prefix}'health.tcp' must be true (a connect that succeeds is healthy); to check nothing, remove the health table");
                }
                break;
            default:
                kind = HealthCheckKind.Command;
                command = GetArgv(table, "command", "health.command", entry, prefix, "command = [\"/usr/local/bin/check\", \"--quick\"]");
                break;
        }
        var interval = _toml.GetDuration(table, "interval", prefix, HealthCheckConfig.DefaultInterval, allowZero: false, "health.");
        var timeout = _toml.GetDuration(table, "timeout", prefix, HealthCheckConfig.DefaultTimeout, allowZero: false, "health.");
        if (timeout >= interval && table.TryGet("timeout", out var timeoutEntry))
        {
            _toml.Error(timeoutEntry.ValuePosition, $"{prefix}'health.timeout' ({Duration.Format(timeout)}) must be shorter than 'health.interval' ({Duration.Format(interval)}), or checks would overlap");
        }
        var failures = _toml.GetInteger(table, "failures", prefix, HealthCheckConfig.DefaultFailures, 1, HealthCheckConfig.MaxFailures,
            $"e.g. failures = {HealthCheckConfig.DefaultFailures}", "health.");
        var startPeriod = _toml.GetDuration(table, "start_period", prefix, TimeSpan.Zero, allowZero: true, "health.");
        return new HealthCheckConfig(kind, path, command, interval, timeout, failures, startPeriod);
    }

    /// <summary>A user or group the workers are to run as must exist, and clusterd must be able to switch to it.</summary>
    private void CheckIdentity(TomlTable table, string key, string? name, string prefix, Func<string, string?>? check)
    {
        if (name is null || _host is null || !table.TryGet(key, out var entry))
        {
            return;
        }
        if (!_host.CanSwitchUsers)
        {
            _toml.Error(entry.ValuePosition, $"{prefix}'{key}' = \"{name}\" needs clusterd to run as root to switch the workers to it (it runs as uid {_host.Uid}); remove '{key}' to run them as clusterd's own user, or run clusterd as root");
        }
        else if (check?.Invoke(name) is { } problem)
        {
            _toml.Error(entry.ValuePosition, $"{prefix}'{key}' = \"{name}\": {problem}");
        }
    }

    private List<string> GetCommand(TomlTable table, TomlEntry groupEntry, string prefix) =>
        GetArgv(table, "command", "command", groupEntry, prefix, "command = [\"/usr/bin/node\", \"server.js\"]");

    /// <summary>A required argv: a non-empty array of strings whose first (the program) is not empty.</summary>
    /// <param name="name">How messages name the key, e.g. "command" or "health.command".</param>
    private List<string> GetArgv(TomlTable table, string key, string name, TomlEntry owner, string prefix, string example)
    {
        if (!table.TryGet(key, out var entry))
        {
            _toml.Error(owner.KeyPosition, $"{prefix}'{name}' is required; add e.g. {example}");
            return [];
        }
        if (entry.Value is StringValueSyntax)
        {
            _toml.Error(entry.ValuePosition, $"{prefix}'{name}' must be an array of strings, not a string (no shell is involved); use an array, e.g. {example}");
            return [];
        }
        if (entry.Value is not ArraySyntax array)
        {
            _toml.Error(entry.ValuePosition, $"{prefix}'{name}' must be an array of strings (got {TomlReader.Describe(entry)}); use an array, e.g. {example}");
            return [];
        }
        var argv = new List<string>();
        var index = 0;
        foreach (var item in array.Items)
        {
            if (item.Value is StringValueSyntax s && s.Value is not null)
            {
                if (index == 0 && s.Value.Length == 0)
                {
                    _toml.Error(TomlReader.Position(item.Value), $"{prefix}'{name}' program (the first element) is empty; name the program to run, e.g. {example}");
                }
                argv.Add(s.Value);
            }
            else if (item.Value is not null)
            {
                _toml.Error(TomlReader.Position(item.Value), $"{prefix}'{name}' elements must be strings (got {TomlReader.Describe(item.Value)}); quote it");
            }
            index++;
        }
        if (index == 0)
        {
            _toml.Error(entry.ValuePosition, $"{prefix}'{name}' must not be empty; name the program to run, e.g. {example}");
        }
        return argv;
    }

    private (int Count, string Source) GetWorkers(TomlTable table, string prefix)
    {
        const string Fix = "set workers = \"auto\" or a positive count";
        const string Config = GroupConfig.WorkersFromConfig;
        if (!table.TryGet("workers", out var entry))
        {
            return (1, Config);
        }
        switch (entry.Value)
        {
            case StringValueSyntax { Value: "auto" }:
                return (Math.Clamp(_cpus.Count, 1, GroupConfig.MaxWorkers), GroupConfig.WorkersAuto + ": " + _cpus.Source);
            case IntegerValueSyntax i when i.Value < 1:
                _toml.Error(entry.ValuePosition, $"{prefix}'workers' must be >= 1 or \"auto\" (got {i.Value}); {Fix}");
                return (1, Config);
            case IntegerValueSyntax i when i.Value > GroupConfig.MaxWorkers:
                _toml.Error(entry.ValuePosition, $"{prefix}'workers' must be <= {GroupConfig.MaxWorkers} (got {i.Value}); use a smaller count or \"auto\"");
                return (1, Config);
            case IntegerValueSyntax i:
                return ((int)i.Value, Config);
            default:
                _toml.Error(entry.ValuePosition, $"{prefix}'workers' must be an integer or \"auto\" (got {TomlReader.Describe(entry)}); {Fix}");
                return (1, Config);
        }
    }

    /// <summary>
    /// Null when absent: every worker must be ready. More than a written <c>workers</c> could never be met; with
    /// "auto" the count depends on the host, so /readyz caps it at the workers the group runs instead.
    /// </summary>
    private int? GetMinReady(TomlTable table, int workers, string workersSource, string prefix)
    {
        if (!table.TryGet("min_ready", out var entry))
        {
            return null;
        }
        var minReady = _toml.GetInteger(table, "min_ready", prefix, -1, 0, GroupConfig.MaxWorkers, "e.g. min_ready = 1");
        if (minReady < 0)
        {
            return null;
        }
        if (minReady > workers && workersSource == GroupConfig.WorkersFromConfig)
        {
            _toml.Error(entry.ValuePosition, $"{prefix}'min_ready' ({minReady}) is more than the group's {workers} workers, so it could never be ready; " +
                $"lower it to at most {workers}, or remove it to require every worker");
            return null;
        }
        return minReady;
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
            _toml.Error(entry.ValuePosition, $"{prefix}'listen' must be an array of addresses, not a string; write listen = [\"{s.Value}\"]");
            return result;
        }
        if (entry.Value is not ArraySyntax array)
        {
            _toml.Error(entry.ValuePosition, $"{prefix}'listen' must be an array of address strings (got {TomlReader.Describe(entry)}); write e.g. {Example}");
            return result;
        }
        var seen = new Dictionary<string, SourcePosition>(StringComparer.Ordinal);
        var count = 0;
        foreach (var item in array.Items)
        {
            if (item.Value is null)
            {
                continue;
            }
            var position = TomlReader.Position(item.Value);
            if (++count == GroupConfig.MaxListen + 1)
            {
                _toml.Error(position, $"{prefix}'listen' has {array.Items.Count(i => i.Value is not null)} addresses, more than {GroupConfig.MaxListen}; " +
                    "each is one more fd in every worker, so listen on fewer (\"0.0.0.0:PORT\" takes every IPv4 interface)");
            }
            if (item.Value is not StringValueSyntax { Value: { } text })
            {
                _toml.Error(position, $"{prefix}'listen' entries must be strings (got {TomlReader.Describe(item.Value)}); write e.g. {Example}");
                continue;
            }
            if (!ListenAddressParser.TryParse(text, isWorkerListener: true, out var address, out var error))
            {
                _toml.Error(position, $"{prefix}'listen' address \"{text}\" is invalid: {error}");
                continue;
            }
            var identity = ListenAddressParser.Identity(address!);
            if (seen.TryGetValue(identity, out var first))
            {
                _toml.Error(position, $"{prefix}'listen' address \"{text}\" is listed twice (first at {first.Line}:{first.Column}); remove the duplicate");
                continue;
            }
            seen.Add(identity, position);
            if (_listenOwners.TryGetValue(identity, out var owner))
            {
                _toml.Error(position, $"{prefix}'listen' address \"{text}\" is already used by group '{owner.Group}' (at {owner.Position.Line}:{owner.Position.Column}); give each group its own address");
                continue;
            }
            _listenOwners.Add(identity, (group, position));
            result.Add(address!);
        }
        return result;
    }

    /// <summary>
    /// Keeps the listening sockets of all groups within <see cref="ClusterConfig.MaxListeningSockets"/>: in reuseport
    /// mode every worker has its own socket per TCP address (a unix: path is bound once whatever the mode).
    /// </summary>
    private void CountListeningSockets(TomlTable table, int workers, List<ListenAddress> listen, SharingMode sharing, string prefix)
    {
        var tcp = listen.Count(a => !a.IsUnix);
        var perWorker = sharing == SharingMode.ReusePort ? tcp : 0;
        var sockets = (perWorker * workers) + (listen.Count - perWorker);
        if (_listeningSockets + sockets > ClusterConfig.MaxListeningSockets && table.TryGet("listen", out var entry))
        {
            var (why, fix) = perWorker > 0
                ? ($"{workers} workers × {tcp} TCP addresses: each worker has its own socket in reuseport mode",
                    "set sharing = \"shared\" for one socket per address, or use fewer workers or addresses")
                : ("one per address", "use fewer addresses here or in the groups above");
            _toml.Error(entry.ValuePosition, $"{prefix}'listen' needs {sockets} listening sockets ({why}), and all groups together may open " +
                $"at most {ClusterConfig.MaxListeningSockets} ({_listeningSockets} taken by the groups above); {fix}");
        }
        _listeningSockets += sockets;
    }

    private string? GetCwd(TomlTable table, string prefix)
    {
        var cwd = _toml.GetString(table, "cwd", prefix, "e.g. cwd = \"/srv/app\"");
        if (cwd is not null && !cwd.StartsWith('/') && table.TryGet("cwd", out var entry))
        {
            _toml.Error(entry.ValuePosition, $"{prefix}'cwd' must be an absolute path (got \"{cwd}\"); write e.g. cwd = \"/{cwd.TrimStart('.', '/')}\"");
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
            _toml.Error(entry.ValuePosition, $"{prefix}'env' must be a table of strings (got {TomlReader.Describe(entry)}); write e.g. env = {{ NODE_ENV = \"production\" }}");
            return env;
        }
        foreach (var variable in entry.Table.Entries)
        {
            var name = variable.Key;
            if (name.Length == 0 || name.Contains('=', StringComparison.Ordinal))
            {
                _toml.Error(variable.KeyPosition, $"{prefix}env name '{name}' is not a valid environment variable name; use a non-empty name without '='");
                continue;
            }
            if (ReservedEnvironment.Names.Contains(name))
            {
                _toml.Error(variable.KeyPosition, $"{prefix}env '{name}' is set by clusterd for every worker and cannot be overridden; remove it");
                continue;
            }
            if (variable.Value is StringValueSyntax { Value: { } value })
            {
                env[name] = value;
                continue;
            }
            var fix = variable.Value is IntegerValueSyntax or FloatValueSyntax or BooleanValueSyntax
                ? $"quote it: {name} = \"{TomlReader.ValueText(variable.Value)}\""
                : $"write it as a string, e.g. {name} = \"value\"";
            _toml.Error(variable.ValuePosition, $"{prefix}env '{name}' must be a string (got {TomlReader.Describe(variable)}); {fix}");
        }
        return env;
    }

    private BackoffConfig GetBackoff(TomlTable table, string prefix)
    {
        if (!table.TryGet("backoff", out var entry))
        {
            return BackoffConfig.Default;
        }
        var backoff = _toml.RequireTable(entry, prefix, "write e.g. backoff = { initial = \"100ms\", max = \"30s\", factor = 2.0 }", "backoff");
        if (backoff is null)
        {
            return BackoffConfig.Default;
        }
        _toml.CheckUnknownKeys(backoff, s_backoffKeys, prefix, "backoff.");
        var initial = _toml.GetDuration(backoff, "initial", prefix, BackoffConfig.Default.Initial, allowZero: false, "backoff.");
        if (initial < BackoffConfig.MinInitial && backoff.TryGet("initial", out var initialEntry))
        {
            _toml.Error(initialEntry.ValuePosition, $"{prefix}'backoff.initial' must be at least {Duration.Format(BackoffConfig.MinInitial)} " +
                $"(got \"{TomlReader.ValueText(initialEntry.Value)}\"): a shorter delay respawns a worker that dies at once in a tight loop; use e.g. initial = \"100ms\"");
            initial = BackoffConfig.Default.Initial;
        }
        var max = _toml.GetDuration(backoff, "max", prefix, BackoffConfig.Default.Max, allowZero: false, "backoff.");
        if (max < initial)
        {
            var position = backoff.TryGet("max", out var maxEntry) ? maxEntry.ValuePosition
                : backoff.TryGet("initial", out var givenInitial) ? givenInitial.ValuePosition
                : entry.ValuePosition;
            _toml.Error(position, $"{prefix}'backoff.max' ({Duration.Format(max)}) must be >= 'backoff.initial' ({Duration.Format(initial)}); raise max or lower initial");
        }

        var factor = BackoffConfig.Default.Factor;
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
                _toml.Error(factorEntry.ValuePosition, $"{prefix}'backoff.factor' must be a number (got {TomlReader.Describe(factorEntry)}); write e.g. factor = 2.0");
            }
            else if (!double.IsFinite(value.Value) || value.Value < 1.0)
            {
                _toml.Error(factorEntry.ValuePosition, $"{prefix}'backoff.factor' must be >= 1.0 (got {TomlReader.ValueText(factorEntry.Value)}); use 2.0 to double the delay after each crash, 1.0 for a constant delay");
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
            _toml.Error(entry.ValuePosition, $"{prefix}'stop_signal' must be a signal name string (got {TomlReader.Describe(entry)}); write e.g. stop_signal = \"SIGTERM\"");
            return defaultSignal;
        }
        if (SignalNames.TryParse(name, out var number, out var canonical))
        {
            return (number, canonical);
        }
        var upper = name.Trim().ToUpperInvariant();
        var suggestion = TomlReader.Suggest(upper.StartsWith("SIG", StringComparison.Ordinal) ? upper : "SIG" + upper, SignalNames.Names);
        _toml.Error(entry.ValuePosition, suggestion is not null
            ? $"{prefix}'stop_signal' \"{name}\" is not a known signal; did you mean \"{suggestion}\"?"
            : $"{prefix}'stop_signal' \"{name}\" is not a known signal; use one of {string.Join(", ", SignalNames.Names)}");
        return defaultSignal;
    }

    private static string Sanitize(string name)
    {
        var chars = name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '_').ToArray();
        return chars.Length == 0 ? "web" : new string(chars);
    }
}
