using Clusterd.Config;

namespace Clusterd.Fuzz;

/// <summary>
/// TOML bytes into <see cref="ConfigLoader.Parse(ReadOnlySpan{byte}, string, AvailableCpus, HostFacts?)"/>. The contract: a config or
/// located one-line errors, exactly one of the two, never an exception; and a config that is accepted keeps every
/// documented limit (docs/config.md).
/// </summary>
internal static class ConfigTarget
{
    private const string File = "fuzz.toml";

    // Fixed, not this machine's: workers = "auto" must resolve alike wherever an input is replayed.
    private static readonly AvailableCpus s_cpus = AvailableCpus.Assumed(4);

    public static void Run(ReadOnlySpan<byte> input)
    {
        var result = ConfigLoader.Parse(input, File, s_cpus);
        Require((result.Config is null) != (result.Errors.Count == 0), "the result is neither a config nor errors, or both");
        foreach (var error in result.Errors)
        {
            Require(error.File == File && error.Line >= 1 && error.Column >= 1, $"an error is not located: {error}");
            Require(error.Message.Length > 0 && !error.Message.Any(char.IsControl), $"an error is empty or not one line: {error}");
        }
        if (result.Config is { } config)
        {
            RequireWithinLimits(config);
        }
    }

    private static void RequireWithinLimits(ClusterConfig config)
    {
        Require(config.Groups.Count <= ClusterConfig.MaxGroups, $"{config.Groups.Count} groups");
        RequireNoNul(config.Control.Socket, config.Control.Group, config.Control.AdminGroup, config.Control.ReadGroup, config.Metrics.Listen);
        var listeningSockets = 0;
        foreach (var g in config.Groups)
        {
            Require(g.Workers is >= 1 and <= GroupConfig.MaxWorkers, $"group '{g.Name}': {g.Workers} workers");
            Require(g.Listen.Count <= GroupConfig.MaxListen, $"group '{g.Name}': {g.Listen.Count} listen addresses");
            Require(g.MaxRestarts is >= 0 and <= GroupConfig.MaxMaxRestarts, $"group '{g.Name}': max_restarts {g.MaxRestarts}");
            Require(g.Backoff.Initial >= BackoffConfig.MinInitial && g.Backoff.Max >= g.Backoff.Initial
                && double.IsFinite(g.Backoff.Factor) && g.Backoff.Factor >= 1.0, $"group '{g.Name}': {g.Backoff}");
            foreach (var duration in new[] { g.ReadyTimeout, g.MinUptime, g.RestartWindow, g.StopTimeout, g.WatchdogTimeout, g.DrainDelay, g.Backoff.Max })
            {
                Require(duration >= TimeSpan.Zero && duration <= Duration.Maximum, $"group '{g.Name}': a duration of {duration}");
            }
            RequireNoNul([g.Name, g.User, g.Group, g.Cwd, .. g.Command, .. g.Env.Keys, .. g.Env.Values, .. g.Listen.Select(a => a.Text)]);
            var tcp = g.Listen.Count(a => !a.IsUnix);
            listeningSockets += g.Sharing == SharingMode.ReusePort ? (tcp * g.Workers) + (g.Listen.Count - tcp) : g.Listen.Count;
        }
        Require(listeningSockets <= ClusterConfig.MaxListeningSockets, $"{listeningSockets} listening sockets");
    }

    private static void RequireNoNul(params string?[] values)
    {
        foreach (var value in values)
        {
            Require(value is null || !value.Contains('\0', StringComparison.Ordinal), "a NUL character reached the config");
        }
    }

    private static void Require(bool condition, string broken)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"the config loader broke its contract: {broken}");
        }
    }
}
