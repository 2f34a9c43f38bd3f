namespace Clusterd.Config;

/// <summary>
/// Maps signal names (<c>SIGTERM</c> or <c>TERM</c>, any case) to the numbers of the OS we run on. The numbers are
/// not portable: USR1/USR2/CONT/STOP/TSTP differ between Linux and macOS, so the table is chosen at runtime.
/// </summary>
internal static class SignalNames
{
    // Linux numbers (x86-64 and arm64 agree): signal(7).
    private static readonly Dictionary<string, int> s_linux = new(StringComparer.Ordinal)
    {
        ["SIGHUP"] = 1, ["SIGINT"] = 2, ["SIGQUIT"] = 3, ["SIGABRT"] = 6, ["SIGKILL"] = 9, ["SIGUSR1"] = 10,
        ["SIGUSR2"] = 12, ["SIGALRM"] = 14, ["SIGTERM"] = 15, ["SIGCONT"] = 18, ["SIGSTOP"] = 19, ["SIGTSTP"] = 20,
        ["SIGWINCH"] = 28,
    };

    // macOS numbers: <sys/signal.h>.
    private static readonly Dictionary<string, int> s_macOS = new(StringComparer.Ordinal)
    {
        ["SIGHUP"] = 1, ["SIGINT"] = 2, ["SIGQUIT"] = 3, ["SIGABRT"] = 6, ["SIGKILL"] = 9, ["SIGUSR1"] = 30,
        ["SIGUSR2"] = 31, ["SIGALRM"] = 14, ["SIGTERM"] = 15, ["SIGCONT"] = 19, ["SIGSTOP"] = 17, ["SIGTSTP"] = 18,
        ["SIGWINCH"] = 28,
    };

    private static Dictionary<string, int> Table => OperatingSystem.IsMacOS() ? s_macOS : s_linux;

    /// <summary>Canonical names, for "did you mean" suggestions and error messages.</summary>
    public static IReadOnlyCollection<string> Names => Table.Keys;

    /// <summary>Resolves <paramref name="name"/> to its number and canonical <c>SIGXXX</c> spelling.</summary>
    public static bool TryParse(string name, out int number, out string canonicalName)
    {
        var upper = name.Trim().ToUpperInvariant();
        canonicalName = upper.StartsWith("SIG", StringComparison.Ordinal) ? upper : "SIG" + upper;
        if (Table.TryGetValue(canonicalName, out number))
        {
            return true;
        }
        canonicalName = "";
        return false;
    }
}
