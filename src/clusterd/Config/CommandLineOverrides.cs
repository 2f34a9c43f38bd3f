namespace Clusterd.Config;

/// <summary>
/// What clusterd's command line sets over the file (<c>--log-format</c>), applied to every load, the first and each
/// reload's alike: so a reload compares like with like, and does not report a change the command line overrides.
/// </summary>
internal sealed record CommandLineOverrides(LogFormat? LogFormat)
{
    public static CommandLineOverrides Parse(string? logFormat) => new(logFormat switch
    {
        "json" => Config.LogFormat.Json,
        "text" => Config.LogFormat.Text,
        _ => null,
    });

    public ClusterConfig Apply(ClusterConfig config) => LogFormat is { } format ? config with { LogFormat = format } : config;
}
