using System.Net.Sockets;
using Clusterd.Config;
using Clusterd.Platform;

namespace Clusterd.Sockets;

/// <summary>
/// The listening sockets of one group. clusterd owns every one of them for as long as the group exists:
/// in reuseport mode one socket per address per slot, kept across that slot's restarts so connections
/// queued on it wait for the replacement instead of being reset; in shared mode one socket per address.
/// Unix-domain addresses are always shared (Linux has no SO_REUSEPORT for AF_UNIX).
/// </summary>
internal sealed class GroupListeners : IDisposable
{
    // As deep as the kernel allows (net.core.somaxconn caps it): a queue that outlives a worker crash should be long.
    private const int Backlog = 4096;

    private readonly GroupConfig _group;
    private readonly Socket?[] _shared;
    private readonly Dictionary<int, Socket[]> _perSlot = [];

    private GroupListeners(GroupConfig group)
    {
        _group = group;
        _shared = new Socket?[group.Listen.Count];
    }

    public int Count => _group.Listen.Count;

    /// <summary>LISTEN_FDNAMES: systemd names fds after their socket unit; clusterd after their group.</summary>
    public string FdNames => string.Join(':', Enumerable.Repeat(_group.Name, Count));

    /// <summary>Binds the shared sockets now, so a port already taken fails the start, not the first spawn.</summary>
    public static GroupListeners Bind(GroupConfig group)
    {
        var listeners = new GroupListeners(group);
        try
        {
            for (var i = 0; i < group.Listen.Count; i++)
            {
                if (listeners.IsShared(i))
                {
                    listeners._shared[i] = Open(group.Listen[i], reusePort: false);
                }
            }
            if (group.Sharing == SharingMode.ReusePort && group.Listen.Any(a => !a.IsUnix))
            {
                listeners.ForSlot(0);
            }
            return listeners;
        }
        catch
        {
            listeners.Dispose();
            throw;
        }
    }

    private bool IsShared(int index) => _group.Sharing == SharingMode.Shared || _group.Listen[index].IsUnix;

    /// <summary>The sockets a worker in <paramref name="slot"/> gets, in <c>listen</c> order (fd 3, 4, ...).</summary>
    public IReadOnlyList<Socket> ForSlot(int slot)
    {
        if (_perSlot.TryGetValue(slot, out var sockets))
        {
            return sockets;
        }
        sockets = new Socket[Count];
        try
        {
            for (var i = 0; i < Count; i++)
            {
                sockets[i] = _shared[i] ?? Open(_group.Listen[i], reusePort: true);
            }
        }
        catch
        {
            foreach (var s in sockets)
            {
                if (s is not null && !_shared.Contains(s))
                {
                    s.Dispose();
                }
            }
            throw;
        }
        _perSlot[slot] = sockets;
        return sockets;
    }

    /// <summary>
    /// Every socket the group holds right now, each once, with the <c>listen</c> entry it serves: the shared ones,
    /// then each slot's own. Read-only; like everything here it must be called on the supervisor loop.
    /// </summary>
    public IEnumerable<(string Listen, Socket Socket)> AllSockets()
    {
        for (var i = 0; i < Count; i++)
        {
            if (_shared[i] is Socket shared)
            {
                yield return (_group.Listen[i].Text, shared);
            }
        }
        foreach (var sockets in _perSlot.Values)
        {
            for (var i = 0; i < sockets.Length; i++)
            {
                if (!IsShared(i))
                {
                    yield return (_group.Listen[i].Text, sockets[i]);
                }
            }
        }
    }

    /// <summary>Closes a slot's own sockets (scale-down). Connections still queued on them are reset by the kernel.</summary>
    public void ReleaseSlot(int slot)
    {
        if (_perSlot.Remove(slot, out var sockets))
        {
            for (var i = 0; i < sockets.Length; i++)
            {
                if (!IsShared(i))
                {
                    sockets[i].Dispose();
                }
            }
        }
    }

    private static Socket Open(ListenAddress address, bool reusePort)
    {
        var endPoint = address.EndPoint;
        Socket socket;
        if (address.IsUnix)
        {
            socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            RemoveStaleUnixSocket(address.Text[5..]);
        }
        else
        {
            socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            if (endPoint.AddressFamily == AddressFamily.InterNetworkV6)
            {
                // "[::]:80" next to "0.0.0.0:80" must not collide; each address means exactly itself.
                socket.DualMode = false;
            }
            // Lets a restarted clusterd bind while old connections sit in TIME_WAIT.
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            if (reusePort)
            {
                socket.SetRawSocketOption(Constants.SolSocket, Constants.SoReusePort, BitConverter.GetBytes(1));
            }
        }
        try
        {
            socket.Bind(endPoint);
            socket.Listen(Backlog);
            return socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new SocketException((int)e.SocketErrorCode, $"cannot listen on {address}: {e.Message}");
        }
    }

    /// <summary>A socket file nobody accepts on is left over from a crash; anything else at the path is not ours to delete.</summary>
    private static void RemoveStaleUnixSocket(string path)
    {
        if (!File.Exists(path) || (File.GetAttributes(path) & FileAttributes.Directory) != 0)
        {
            return;
        }
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            File.Delete(path);
        }
    }

    public void Dispose()
    {
        foreach (var slot in _perSlot.Keys.ToArray())
        {
            ReleaseSlot(slot);
        }
        foreach (var socket in _shared)
        {
            socket?.Dispose();
        }
        foreach (var address in _group.Listen.Where(a => a.IsUnix))
        {
            File.Delete(address.Text[5..]);
        }
    }
}
