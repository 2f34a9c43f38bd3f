using System.Globalization;

namespace Clusterd.Config;

/// <summary>What a reload would change, group by group.</summary>
internal sealed record ConfigPlan(
    IReadOnlyList<GroupConfig> Added,
    IReadOnlyList<string> Removed,
    IReadOnlyList<GroupPlan> Changed,
    IReadOnlyList<string> Unchanged,
    IReadOnlyList<string> Notes);

/// <param name="Rolls">The workers must be replaced (a rolling restart); otherwise the change applies in place.</param>
internal sealed record GroupPlan(GroupConfig Config, IReadOnlyList<string> Changes, bool Rolls);

/// <summary>Compares two configurations key by key, the way an operator would read them.</summary>
internal static class ConfigDiff
{
    public static ConfigPlan Plan(ClusterConfig current, ClusterConfig next)
    {
        var before = current.Groups.ToDictionary(g => g.Name, StringComparer.Ordinal);
        var after = next.Groups.ToDictionary(g => g.Name, StringComparer.Ordinal);
        var added = next.Groups.Where(g => !before.ContainsKey(g.Name)).ToArray();
        var removed = current.Groups.Where(g => !after.ContainsKey(g.Name)).Select(g => g.Name).ToArray();
        var changed = new List<GroupPlan>();
        var unchanged = new List<string>();
        foreach (var g in next.Groups.Where(g => before.ContainsKey(g.Name)))
        {
            var (changes, rolls) = Compare(before[g.Name], g);
            if (changes.Count == 0)
            {
                unchanged.Add(g.Name);
            }
            else
            {
                changed.Add(new GroupPlan(g, changes, rolls));
            }
        }
        var notes = new List<string>();
        if (current.Control != next.Control)
        {
            notes.Add("[control] changed: it takes effect when clusterd restarts");
        }
        if (current.Metrics != next.Metrics)
        {
            notes.Add("[metrics] changed: it takes effect when clusterd restarts");
        }
        if (current.LogFormat != next.LogFormat)
        {
            // Whoever parses clusterd's console (docker logs, a Kubernetes collector) is set up for one format.
            notes.Add("[logs] format changed: it takes effect when clusterd restarts (a collector reading the console must not meet both formats)");
        }
        return new ConfigPlan(added, removed, changed, unchanged, notes);
    }

    private static string Describe(HealthCheckConfig? check) => check is null ? "(none)" : check.Kind switch
    {
        HealthCheckKind.Http => $"http \"{check.Path}\"",
        HealthCheckKind.Tcp => "tcp",
        _ => $"command [{string.Join(", ", check.Command!.Select(a => $"\"{a}\""))}]",
    } + $" every {Duration.Format(check.Interval)} (timeout {Duration.Format(check.Timeout)}, {check.Failures} failures, start_period {Duration.Format(check.StartPeriod)})";

    /// <summary>The differences, and whether any of them needs new processes (what a process is started with).</summary>
    public static (List<string> Changes, bool Rolls) Compare(GroupConfig a, GroupConfig b)
    {
        var changes = new List<string>();
        var rolls = false;
        void Check<T>(string key, T x, T y, bool roll, Func<T, string> show)
        {
            if (!EqualityComparer<T>.Default.Equals(x, y))
            {
                changes.Add($"{key}: {show(x)} -> {show(y)}");
                rolls |= roll;
            }
        }
        static string Quote(string? s) => s is null ? "(none)" : $"\"{s}\"";
        static string Dur(TimeSpan t) => Duration.Format(t);

        if (!a.Command.SequenceEqual(b.Command))
        {
            changes.Add($"command: [{string.Join(", ", a.Command.Select(Quote))}] -> [{string.Join(", ", b.Command.Select(Quote))}]");
            rolls = true;
        }
        if (!a.Listen.Select(l => l.Text).SequenceEqual(b.Listen.Select(l => l.Text)))
        {
            changes.Add($"listen: [{string.Join(", ", a.Listen)}] -> [{string.Join(", ", b.Listen)}]");
            rolls = true;
        }
        Check("sharing", a.Sharing, b.Sharing, true, v => v.ToString().ToLowerInvariant());
        Check("user", a.User, b.User, true, Quote);
        Check("group", a.Group, b.Group, true, Quote);
        Check("cwd", a.Cwd, b.Cwd, true, Quote);
        foreach (var key in a.Env.Keys.Union(b.Env.Keys).Order(StringComparer.Ordinal))
        {
            var x = a.Env.GetValueOrDefault(key);
            var y = b.Env.GetValueOrDefault(key);
            if (x != y)
            {
                // Values may be secrets: say which variable changed, not to what.
                changes.Add(x is null ? $"env.{key} added" : y is null ? $"env.{key} removed" : $"env.{key} changed");
                rolls = true;
            }
        }
        Check("workers", a.Workers, b.Workers, false, v => v.ToString(CultureInfo.InvariantCulture));
        Check("min_ready", a.MinReady, b.MinReady, false, v => v?.ToString(CultureInfo.InvariantCulture) ?? "(every worker)");
        Check("ready", a.Ready, b.Ready, false, v => v.ToString().ToLowerInvariant());
        Check("ready_timeout", a.ReadyTimeout, b.ReadyTimeout, false, Dur);
        Check("min_uptime", a.MinUptime, b.MinUptime, false, Dur);
        Check("restart", a.Restart, b.Restart, false, v => v.ToString().ToLowerInvariant());
        Check("backoff.initial", a.Backoff.Initial, b.Backoff.Initial, false, Dur);
        Check("backoff.max", a.Backoff.Max, b.Backoff.Max, false, Dur);
        Check("backoff.factor", a.Backoff.Factor, b.Backoff.Factor, false, v => v.ToString(CultureInfo.InvariantCulture));
        Check("max_restarts", a.MaxRestarts, b.MaxRestarts, false, v => v.ToString(CultureInfo.InvariantCulture));
        Check("restart_window", a.RestartWindow, b.RestartWindow, false, Dur);
        Check("stop_signal", a.StopSignalName, b.StopSignalName, false, v => v);
        Check("stop_timeout", a.StopTimeout, b.StopTimeout, false, Dur);
        // Workers were told WATCHDOG_USEC when they started: a new value needs new workers, in either direction.
        Check("watchdog_timeout", a.WatchdogTimeout, b.WatchdogTimeout, true, Dur);
        Check("drain_delay", a.DrainDelay, b.DrainDelay, false, Dur);
        static string Size(long? bytes) => bytes is long b ? ByteSize.Format(b) : "(none)";
        Check("max_memory", a.Health.MaxMemory, b.Health.MaxMemory, false, Size);
        // memory.max is set when a worker's cgroup is made: running workers keep the old limit until they are replaced.
        Check("memory_max", a.Health.MemoryMax, b.Health.MemoryMax, true, Size);
        Check("max_lifetime", a.Health.MaxLifetime, b.Health.MaxLifetime, false, Dur);
        Check("health", Describe(a.Health.Check), Describe(b.Health.Check), false, d => d); // by text: the argv is a list
        // The capture is clusterd's: new log settings apply to the running workers' next lines.
        Check("logs", a.Logs, b.Logs, false, l => l.Describe());
        return (changes, rolls);
    }
}
