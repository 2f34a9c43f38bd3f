using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace Clusterd.Platform;

/// <summary>
/// sd_notify towards the service manager that started clusterd: state lines, and descriptors for its fd store
/// (FDSTORE=1 needs SCM_RIGHTS, which no managed API sends). Messages are small datagrams, so a send never blocks.
/// A send that fails is reported, never thrown: a missing manager must not take clusterd down.
/// </summary>
internal sealed class ServiceManagerNotifier
{
    private readonly UnixDomainSocketEndPoint _endPoint;

    private ServiceManagerNotifier(string path)
    {
        Path = path;
        // "@name" is an abstract socket: its first byte is NUL on the wire.
        _endPoint = new UnixDomainSocketEndPoint(path[0] == '@' ? "\0" + path[1..] : path);
    }

    public string Path { get; }

    /// <summary>The notifier for NOTIFY_SOCKET, or null when clusterd was not started by a service manager.</summary>
    public static ServiceManagerNotifier? FromEnvironment() =>
        Environment.GetEnvironmentVariable("NOTIFY_SOCKET") is { Length: > 0 } path && (path[0] is '/' or '@')
            ? new ServiceManagerNotifier(path)
            : null;

    public bool Notify(string state) => Send(state, []);

    /// <summary>Keeps a duplicate of <paramref name="socket"/> in the manager under <paramref name="name"/> (no ':' allowed).</summary>
    public bool Store(Socket socket, string name) =>
        Send($"FDSTORE=1\nFDNAME={name}", [(int)socket.SafeHandle.DangerousGetHandle()]);

    public bool Remove(string name) => Send($"FDSTOREREMOVE=1\nFDNAME={name}", []);

    private bool Send(string state, ReadOnlySpan<int> fds)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        try
        {
            socket.Connect(_endPoint);
            var payload = Encoding.UTF8.GetBytes(state);
            if (fds.IsEmpty)
            {
                return socket.Send(payload) == payload.Length;
            }
            return Descriptors.SendWithDescriptors(socket.SafeHandle, payload, fds) >= 0 || Fail();
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static bool Fail()
    {
        _ = Marshal.GetLastPInvokeError();
        return false;
    }
}
