namespace Clusterd.Config;

/// <summary>The validated configuration: every value present, every default applied.</summary>
internal sealed record ClusterConfig(
    string Path,
    ControlConfig Control,
    MetricsConfig Metrics,
    IReadOnlyList<GroupConfig> Groups,
    ContainerConfig Container)
{
    /// <summary>Each group is one program; 64 is more than one host runs under one supervisor (docs/config.md).</summary>
    public const int MaxGroups = 64;

    /// <summary>
    /// Listening sockets for all groups together: in reuseport mode each worker has its own socket per TCP address.
    /// The shipped unit's FileDescriptorStoreMax is 4096, so every listener survives <c>systemctl restart</c>.
    /// </summary>
    public const int MaxListeningSockets = 4096;

    /// <summary>[logs] as written: what a group without a logs table of its own gets.</summary>
    public LogsConfig Logs { get; init; } = LogsConfig.Default;

    /// <summary>[logs] format: how clusterd writes its console, its own messages and worker lines alike.</summary>
    public LogFormat LogFormat { get; init; }

    /// <summary>The text this was parsed from: an in-place upgrade hands it on, not the file, which may have changed since.</summary>
    public string Source { get; init; } = "";
}

/// <param name="Socket">Null: the default path (/run/clusterd/clusterd.sock as root, else $XDG_RUNTIME_DIR/clusterd.sock).</param>
/// <param name="Group">The group that owns the socket file (mode 0660).</param>
/// <param name="AdminGroup">Members may run every command (root and clusterd's own user always may).</param>
/// <param name="ReadGroup">Members may only read: status, events, logs, version, ping.</param>
internal sealed record ControlConfig(string? Socket, string? Group, string? AdminGroup, string? ReadGroup);

/// <summary><c>Listen</c> is null when the [metrics] table or its key is absent: no endpoint.</summary>
internal sealed record MetricsConfig(string? Listen);

/// <summary>[container] (docs/containers.md).</summary>
/// <param name="ExitOnFailed">Stop everything and exit non-zero when a group fails; null: on in container mode only.</param>
internal sealed record ContainerConfig(bool? ExitOnFailed)
{
    public static readonly ContainerConfig Default = new(ExitOnFailed: null);
}

internal enum SharingMode { ReusePort, Shared }

internal enum ReadyMode { Notify, Started, Health }

internal enum RestartMode { Always, OnFailure, Never }

internal sealed record BackoffConfig(TimeSpan Initial, TimeSpan Max, double Factor)
{
    public static readonly BackoffConfig Default = new(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30), 2.0);

    /// <summary>The shortest first delay: below it, a worker that dies at once is respawned in a tight loop.</summary>
    public static readonly TimeSpan MinInitial = TimeSpan.FromMilliseconds(1);
}

/// <summary>A listen address: TCP (IPv4/IPv6, host must be a literal address) or a Unix socket path.</summary>
internal sealed record ListenAddress(string Text, System.Net.EndPoint EndPoint)
{
    public bool IsUnix => EndPoint is System.Net.Sockets.UnixDomainSocketEndPoint;
    public override string ToString() => Text;
}

internal sealed record GroupConfig(
    string Name,
    IReadOnlyList<string> Command,
    int Workers,
    IReadOnlyList<ListenAddress> Listen,
    SharingMode Sharing,
    ReadyMode Ready,
    TimeSpan ReadyTimeout,
    TimeSpan MinUptime,
    string? User,
    string? Group,
    string? Cwd,
    IReadOnlyDictionary<string, string> Env,
    RestartMode Restart,
    BackoffConfig Backoff,
    int MaxRestarts,
    TimeSpan RestartWindow,
    int StopSignal,
    string StopSignalName,
    TimeSpan StopTimeout,
    TimeSpan WatchdogTimeout,
    TimeSpan DrainDelay,
    WorkerHealthConfig Health,
    int? MinReady,
    string WorkersSource)
{
    /// <summary><see cref="WorkersSource"/> of a count written in the file (or the default of 1).</summary>
    public const string WorkersFromConfig = "config";

    /// <summary><see cref="WorkersSource"/> of <c>workers = "auto"</c> starts with this, then says where the CPU count came from.</summary>
    public const string WorkersAuto = "auto";

    /// <summary>Ready workers the group needs to count as ready (/readyz): <c>min_ready</c>, else all it should run.</summary>
    public int RequiredReady(int desired) => Math.Min(MinReady ?? desired, desired);

    /// <summary>Per group, whether from the config or from <c>clusterctl scale</c>.</summary>
    public const int MaxWorkers = 4096;

    /// <summary>A worker gets one fd per address (fds 3.., LISTEN_FDS); 16 covers every interface and port a program needs.</summary>
    public const int MaxListen = 16;

    /// <summary>More deaths than this within restart_window is a crash loop, and restarting it only burns CPU.</summary>
    public const int MaxMaxRestarts = 1000;

    public const int DefaultMaxRestarts = 10;
    public static readonly TimeSpan DefaultReadyTimeout = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan DefaultMinUptime = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan DefaultRestartWindow = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan DefaultStopTimeout = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan DefaultDrainDelay = TimeSpan.FromMilliseconds(100);

    /// <summary>SO_REUSEPORT load-balances on Linux only; on macOS workers share one listener the daemon owns.</summary>
    public static SharingMode DefaultSharing => OperatingSystem.IsMacOS() ? SharingMode.Shared : SharingMode.ReusePort;

    /// <summary>[logs] with [groups.NAME.logs] over it.</summary>
    public LogsConfig Logs { get; init; } = LogsConfig.Default;
}

/// <summary>
/// What keeps a running worker healthy besides its exit (docs/config.md): each of these replaces a worker the way a
/// rolling restart does (readiness-gated, steered, drained), one at a time per group.
/// </summary>
/// <param name="MaxMemory">Bytes the worker's tree may use (sampled every second) before it is replaced; null: off.</param>
/// <param name="MemoryMax">The kernel's hard limit for the worker's cgroup (memory.max); null: none.</param>
/// <param name="MaxLifetime">Replace a worker this long after it started (plus up to 10 % jitter); zero: never.</param>
/// <param name="Check">An active health check, or null.</param>
internal sealed record WorkerHealthConfig(long? MaxMemory, long? MemoryMax, TimeSpan MaxLifetime, HealthCheckConfig? Check)
{
    public static readonly WorkerHealthConfig None = new(null, null, TimeSpan.Zero, null);
}

internal enum HealthCheckKind { Http, Tcp, Command }

/// <summary>
/// <c>[groups.NAME.health]</c>: one probe every <paramref name="Interval"/>, each given <paramref name="Timeout"/>;
/// <paramref name="Failures"/> in a row make the worker unhealthy, except within <paramref name="StartPeriod"/> of its start.
/// </summary>
/// <param name="Path">For <see cref="HealthCheckKind.Http"/>: the path to GET.</param>
/// <param name="Command">For <see cref="HealthCheckKind.Command"/>: the argv to run (exit 0 is healthy).</param>
internal sealed record HealthCheckConfig(
    HealthCheckKind Kind,
    string? Path,
    IReadOnlyList<string>? Command,
    TimeSpan Interval,
    TimeSpan Timeout,
    int Failures,
    TimeSpan StartPeriod)
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(2);
    public const int DefaultFailures = 3;
    public const int MaxFailures = 100;
}
