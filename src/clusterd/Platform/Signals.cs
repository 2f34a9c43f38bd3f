namespace Clusterd.Platform;

internal static class Signals
{
    public const int SIGKILL = Interop.SIGKILL;

    /// <summary>Signals a worker's whole process group (it leads its own session); falls back to the pid alone.</summary>
    public static bool SignalGroup(int pid, int signal) =>
        Interop.kill(-pid, signal) == 0 || Interop.kill(pid, signal) == 0;
}
