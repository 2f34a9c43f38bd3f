namespace Clusterctl;

/// <summary>
/// clusterctl's exit codes, s6-style so scripts can tell "the daemon said no" from "we never reached it".
/// They are a stable contract: documented in docs/clusterctl.md and in <c>clusterctl --help</c>.
/// </summary>
internal static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Ok = 0;

    /// <summary>clusterd answered with an error: not found, a failed rollout, an invalid config, permission denied...</summary>
    public const int No = 1;

    /// <summary>The command line is wrong (unknown option, missing argument, bad value).</summary>
    public const int Usage = 100;

    /// <summary>A bug in clusterctl itself.</summary>
    public const int Internal = 101;

    /// <summary>A system error: the socket cannot be reached, an I/O error, a timeout, a protocol mismatch.</summary>
    public const int System = 111;

    /// <summary>The block appended to the root command's help.</summary>
    public const string HelpText =
        "Exit codes: 0 ok; 1 clusterd answered no (not found, failed rollout, invalid config, permission denied); "
        + "100 usage error; 101 internal error in clusterctl; 111 system error (cannot reach the socket, I/O error, timeout).";
}
