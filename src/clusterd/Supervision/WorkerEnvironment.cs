using Clusterd.Config;
using Clusterd.Platform;

namespace Clusterd.Supervision;

/// <summary>
/// The one place a worker's environment is put together, in this order: what clusterd inherited (less its own
/// service manager's variables), the identity of the worker's user (as systemd sets it for <c>User=</c>), the group's
/// <c>env</c>, and last clusterd's contract (<see cref="ReservedEnvironment"/>), which nothing can override.
/// </summary>
internal static class WorkerEnvironment
{
    /// <summary>Variables that describe clusterd's own service-manager contract (or session), not the workers'.</summary>
    private static readonly string[] s_notForWorkers =
    [
        "JOURNAL_STREAM", "INVOCATION_ID", "MANAGERPID", "CREDENTIALS_DIRECTORY", "RUNTIME_DIRECTORY", "STATE_DIRECTORY",
        "LOGS_DIRECTORY", "CACHE_DIRECTORY", "CONFIGURATION_DIRECTORY", "MONITOR_EXIT_CODE", "TRIGGER_UNIT",
    ];

    /// <summary>clusterd's own environment less what is not for workers; read once at start.</summary>
    public static IReadOnlyDictionary<string, string> Inherited { get; } = ReadInherited();

    /// <param name="identity">The worker's user when clusterd switches to it: HOME, USER, LOGNAME and SHELL follow it.</param>
    public static Dictionary<string, string> Build(
        IReadOnlyDictionary<string, string> inherited,
        UserIdentity? identity,
        IReadOnlyDictionary<string, string> configured,
        IReadOnlyDictionary<string, string> contract)
    {
        var env = new Dictionary<string, string>(inherited, StringComparer.Ordinal);
        if (identity is { } user)
        {
            env["USER"] = user.Name;
            env["LOGNAME"] = user.Name;
            env["HOME"] = user.Home;
            env["SHELL"] = user.Shell;
        }
        foreach (var (key, value) in configured)
        {
            env[key] = value;
        }
        foreach (var (key, value) in contract)
        {
            env[key] = value;
        }
        return env;
    }

    private static Dictionary<string, string> ReadInherited()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            var key = (string)entry.Key;
            if (!ReservedEnvironment.Names.Contains(key) && Array.IndexOf(s_notForWorkers, key) < 0 && entry.Value is string value)
            {
                env[key] = value;
            }
        }
        return env;
    }
}
