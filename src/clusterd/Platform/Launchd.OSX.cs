using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Clusterd.Platform;

/// <summary>
/// launchd's socket activation: a LaunchDaemon plist's <c>Sockets</c> dictionary holds listeners launchd created;
/// clusterd asks for them by name (one name per group, see packaging/launchd) and adopts them like systemd's.
/// </summary>
[SupportedOSPlatform("macos")]
internal static partial class Launchd
{
    private const int ESRCH = 3;   // not started by launchd
    private const int ENOENT = 2;  // no socket of that name in the plist

    [LibraryImport("libc", EntryPoint = "launch_activate_socket", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int launch_activate_socket(string name, int** fds, nuint* count);

    [LibraryImport("libc", EntryPoint = "free")]
    private static unsafe partial void free(void* pointer);

    /// <summary>The sockets launchd holds under each of <paramref name="names"/>; none when not run by launchd.</summary>
    public static unsafe IReadOnlyList<(Socket Socket, string Name)> TakeSockets(IEnumerable<string> names)
    {
        var sockets = new List<(Socket, string)>();
        foreach (var name in names)
        {
            int* fds = null;
            nuint count = 0;
            var error = launch_activate_socket(name, &fds, &count);
            if (error is ESRCH)
            {
                break;
            }
            if (error is ENOENT || error != 0)
            {
                continue;
            }
            try
            {
                for (nuint i = 0; i < count; i++)
                {
                    // launchd's descriptors are ours now; like systemd's, they must not leak into workers.
                    var handle = new SafeSocketHandle(fds[i], ownsHandle: true);
                    Descriptors.SetInheritable(handle, false);
                    sockets.Add((new Socket(handle), name));
                }
            }
            finally
            {
                free(fds);
            }
        }
        return sockets;
    }
}
