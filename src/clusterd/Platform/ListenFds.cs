using System.Globalization;
using System.Net.Sockets;

namespace Clusterd.Platform;

/// <summary>
/// The sockets a service manager passed to clusterd itself (systemd socket activation and fd store): fds 3.. with
/// LISTEN_FDS, LISTEN_FDNAMES, and LISTEN_PID naming us. Taken once at start; the variables are then removed so that
/// nothing clusterd starts can mistake them for its own (sd_listen_fds with unset_environment).
/// </summary>
internal static class ListenFds
{
    public const int First = 3;

    public static IReadOnlyList<(Socket Socket, string Name)> Take()
    {
        var count = Environment.GetEnvironmentVariable("LISTEN_FDS");
        var pid = Environment.GetEnvironmentVariable("LISTEN_PID");
        var names = Environment.GetEnvironmentVariable("LISTEN_FDNAMES")?.Split(':') ?? [];
        Environment.SetEnvironmentVariable("LISTEN_FDS", null);
        Environment.SetEnvironmentVariable("LISTEN_PID", null);
        Environment.SetEnvironmentVariable("LISTEN_FDNAMES", null);
        if (!int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0
            || !int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out var listenPid) || listenPid != Environment.ProcessId)
        {
            return [];
        }
        var sockets = new List<(Socket, string)>(n);
        for (var i = 0; i < n; i++)
        {
            // Owned from here on. Inherited descriptors are not close-on-exec; ours must be, or every worker would get them.
            var handle = new SafeSocketHandle(First + i, ownsHandle: true);
            Descriptors.SetInheritable(handle, false);
            sockets.Add((new Socket(handle), i < names.Length ? names[i] : "unknown"));
        }
        return sockets;
    }
}
