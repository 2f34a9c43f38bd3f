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
}
