using System.Net.Sockets;
using System.Text;

namespace TestWorker;

/// <summary>Minimal sd_notify: one datagram per call on a throwaway unbound socket.</summary>
internal static class Notify
{
    public static string? SocketPath => Environment.GetEnvironmentVariable("NOTIFY_SOCKET") is { Length: > 0 } p ? p : null;

    public static bool Send(string message)
    {
        var path = SocketPath;
        if (path is null)
        {
            return false;
        }

        // '@' names an abstract socket; the kernel wants a leading NUL instead.
        if (path[0] == '@')
        {
            path = "\0" + path[1..];
        }

        try
        {
            // A fresh socket per message so no notify fd lingers to confuse the /env fd listing.
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            socket.SendTo(Encoding.UTF8.GetBytes(message), new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException ex)
        {
            Console.Error.WriteLine($"testworker: notify '{message}' failed: {ex.Message}");
            return false;
        }
    }

    /// <summary>
    /// 3 KiB datagrams (WATCHDOG=1 and a constant STATUS=) on one connected socket until the process ends or the
    /// socket goes away: the flood of the security review, from a worker of the group itself.
    /// </summary>
    public static void Flood()
    {
        var datagram = Encoding.UTF8.GetBytes("WATCHDOG=1\nSTATUS=flooding " + new string('x', 3000));
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            socket.Connect(new UnixDomainSocketEndPoint(SocketPath!));
            while (true)
            {
                socket.Send(datagram);
            }
        }
        catch (SocketException ex)
        {
            Console.Error.WriteLine($"testworker: notify flood ended: {ex.Message}");
        }
    }
}
