namespace Clusterd.Config;

/// <summary>The validated configuration: every value present, every default applied.</summary>
internal sealed record ClusterConfig(
    string Path,
    ControlConfig Control,
    MetricsConfig Metrics,
    IReadOnlyList<GroupConfig> Groups);

/// <param name="Socket">Null: the default path (/run/clusterd/clusterd.sock as root, else $XDG_RUNTIME_DIR/clusterd.sock).</param>
/// <param name="Group">The group that owns the socket file (mode 0660).</param>
/// <param name="AdminGroup">Members may run every command (root and clusterd's own user always may).</param>
/// <param name="ReadGroup">Members may only read: status, events, logs, version, ping.</param>
internal sealed record ControlConfig(string? Socket, string? Group, string? AdminGroup, string? ReadGroup);

/// <summary><c>Listen</c> is null when the [metrics] table or its key is absent: no endpoint.</summary>
internal sealed record MetricsConfig(string? Listen);

internal enum SharingMode { ReusePort, Shared }

internal enum ReadyMode { Notify, Started }

internal enum RestartMode { Always, OnFailure, Never }

internal sealed record BackoffConfig(TimeSpan Initial, TimeSpan Max, double Factor)
{
    public static readonly BackoffConfig Default = new(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30), 2.0);
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
    TimeSpan DrainDelay)
{
    /// <summary>Per group, whether from the config or from <c>clusterctl scale</c>.</summary>
    public const int MaxWorkers = 4096;

    public const int DefaultMaxRestarts = 10;
    public static readonly TimeSpan DefaultReadyTimeout = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan DefaultMinUptime = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan DefaultRestartWindow = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan DefaultStopTimeout = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan DefaultDrainDelay = TimeSpan.FromMilliseconds(100);

    /// <summary>SO_REUSEPORT load-balances on Linux only; on macOS workers share one listener the daemon owns.</summary>
    public static SharingMode DefaultSharing => OperatingSystem.IsMacOS() ? SharingMode.Shared : SharingMode.ReusePort;
}
