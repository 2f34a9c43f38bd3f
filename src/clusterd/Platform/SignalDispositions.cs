namespace Clusterd.Platform;

/// <summary>
/// clusterd stops on SIGTERM/SIGINT, reloads on SIGHUP and watches its children through SIGCHLD. A process started with
/// any of them ignored (a job started in the background by a shell script, nohup) keeps it ignored, and .NET respects
/// an inherited SIG_IGN: clusterd would never hear it, and with SIGCHLD ignored its children would be reaped by the
/// kernel before clusterd could read how they ended. So at start, before anything registers for them, an ignored
/// one goes back to its default.
/// </summary>
internal static class SignalDispositions
{
    private const int SIGHUP = 1, SIGINT = 2, SIGTERM = 15;
    private const nint SIG_IGN = 1;

    private static int SIGCHLD => OperatingSystem.IsMacOS() ? 20 : 17;

    public static unsafe void RestoreIgnored()
    {
        var action = stackalloc byte[256]; // struct sigaction: its first field is the handler, on Linux and macOS
        foreach (var signal in new[] { SIGHUP, SIGINT, SIGTERM, SIGCHLD })
        {
            if (Interop.sigaction(signal, null, action) == 0 && *(nint*)action == SIG_IGN)
            {
                Interop.signal(signal, Interop.SIG_DFL);
            }
        }
    }
}
