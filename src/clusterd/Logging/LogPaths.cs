using System.Globalization;
using Clusterd.Platform;

namespace Clusterd.Logging;

/// <summary>Where log files go when <c>file</c> is not set, and how a template becomes a path.</summary>
internal static class LogPaths
{
    /// <summary>The systemd unit's LogsDirectory=clusterd (0750 root:clusterd).</summary>
    public const string SystemDirectory = "/var/log/clusterd";

    public static string DefaultTemplate => Path.Combine(UserDatabase.IsRoot ? SystemDirectory : StateDirectory(), "{group}.log");

    /// <summary>$XDG_STATE_HOME/clusterd, else ~/.local/state/clusterd (the XDG base directory default).</summary>
    public static string StateDirectory()
    {
        var state = Environment.GetEnvironmentVariable("XDG_STATE_HOME");
        if (string.IsNullOrEmpty(state) || !Path.IsPathRooted(state))
        {
            state = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state");
        }
        return Path.Combine(state, "clusterd");
    }

    public static string Expand(string template, string group, int slot) =>
        template.Replace("{group}", group, StringComparison.Ordinal)
            .Replace("{slot}", slot.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
}
