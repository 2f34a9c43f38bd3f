using System.Runtime.InteropServices;

namespace Clusterd.IntegrationTests.Infrastructure;

internal static partial class Native
{
    public const int SIGINT = 2;
    public const int SIGKILL = 9;
    public const int SIGSTOP = 19;
    public const int SIGCONT = 18;
    public const int SIGTERM = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "chown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int ChownNative(string path, uint uid, uint gid);

    public static void Chown(string path, uint uid, uint gid) =>
        Assert.True(ChownNative(path, uid, gid) == 0, $"chown {path}: errno {Marshal.GetLastPInvokeError()}");

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint GetEuid();

    public static bool IsRoot => GetEuid() == 0;

    /// <summary>
    /// Whether clusterd can steer connections here (root on Linux). A laptop without it skips the test; CI, root on
    /// Linux, must not.
    /// </summary>
    public static bool SteeringTestable()
    {
        var testable = OperatingSystem.IsLinux() && IsRoot;
        Assert.False(!testable && Environment.GetEnvironmentVariable("CI") == "true", "CI runs as root on Linux: connection steering must be tested there");
        return testable;
    }

    /// <summary>True while a process with that pid exists and is not a zombie.</summary>
    public static bool IsAlive(int pid) => State(pid) is char state && state != 'Z';

    /// <summary>The process's state letter from /proc (R, S, T for stopped, Z...), or null if it is gone.</summary>
    public static char? State(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0];
        }
        catch (IOException)
        {
            return null;
        }
    }
}
