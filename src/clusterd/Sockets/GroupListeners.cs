using System.Net.Sockets;
using Clusterd.Config;
using Clusterd.Platform;

namespace Clusterd.Sockets;

/// <summary>
/// The listening sockets of one group. clusterd owns every one of them for as long as the group listens on the
/// address: in reuseport mode one socket per address per slot, kept across that slot's restarts so connections
/// queued on it wait for the replacement instead of being reset; in shared mode one socket per address.
/// Unix-domain addresses are always shared (Linux has no SO_REUSEPORT for AF_UNIX).
/// On reload, <see cref="Rebind"/> hands the sockets of every address that stays over to the new set, so a
/// rolling restart never closes a socket that still has a queue.
/// </summary>
internal sealed class GroupListeners : IDisposable
{
    // As deep as the kernel allows (net.core.somaxconn caps it): a queue that outlives a worker crash should be long.
    private const int Backlog = 4096;

    private readonly GroupConfig _group;
    private readonly ISocketSource? _source;
    private readonly AddressSockets[] _addresses;
    private readonly List<(int From, int To)> _taken = [];
    private GroupListeners? _previous;

    private GroupListeners(GroupConfig group, ISocketSource? source)
    {
        _group = group;
        _source = source;
        _addresses = new AddressSockets[group.Listen.Count];
    }

    public int Count => _addresses.Length;

    /// <summary>LISTEN_FDNAMES: systemd names fds after their socket unit; clusterd after their group.</summary>
    public string FdNames => string.Join(':', Enumerable.Repeat(_group.Name, Count));

    /// <summary>Binds the shared sockets and slot 0's now, so a port already taken fails the start, not a spawn.</summary>
    public static GroupListeners Bind(GroupConfig group, ISocketSource? source = null) => Rebind(group, previous: null, source);

    /// <summary>
    /// The listeners for <paramref name="group"/>, taking over from <paramref name="previous"/> the sockets of every
    /// address both configurations share (when the sharing mode is the same). What is not taken stays with
    /// <paramref name="previous"/>, whose disposal closes it. On failure, nothing moves.
    /// </summary>
    public static GroupListeners Rebind(GroupConfig group, GroupListeners? previous, ISocketSource? source = null)
    {
        var listeners = new GroupListeners(group, source ?? previous?._source);
        var taken = new List<(int From, int To)>();
        try
        {
            for (var i = 0; i < group.Listen.Count; i++)
            {
                var address = group.Listen[i];
                var shared = group.Sharing == SharingMode.Shared || address.IsUnix;
                var from = previous is null ? -1 : previous.IndexOf(address, shared);
                if (from >= 0)
                {
                    listeners._addresses[i] = previous!._addresses[from];
                    taken.Add((from, i));
                }
                else
                {
                    listeners._addresses[i] = new AddressSockets(address, shared ? listeners.Open(address, slot: null) : null);
                }
            }
            if (group.Listen.Count > 0 && group.Workers > 0)
            {
                listeners.ForSlot(0);
            }
        }
        catch
        {
            foreach (var (_, to) in taken)
            {
                listeners._addresses[to] = null!; // still owned by previous
            }
            listeners.Retire();
            throw;
        }
        foreach (var (from, _) in taken)
        {
            previous!._addresses[from] = null!;
        }
        listeners._taken.AddRange(taken);
        listeners._previous = previous;
        return listeners;
    }

    /// <summary>Undoes <see cref="Rebind"/>: the sockets taken over go back where they came from; the rest are closed.</summary>
    public void Revert()
    {
        if (_previous is not null)
        {
            foreach (var (from, to) in _taken)
            {
                _previous._addresses[from] = _addresses[to];
                _addresses[to] = null!;
            }
            _taken.Clear();
            _previous = null;
        }
        Retire();
    }

    private int IndexOf(ListenAddress address, bool shared)
    {
        var identity = ListenAddressParser.Identity(address);
        for (var i = 0; i < _addresses.Length; i++)
        {
            var a = _addresses[i];
            if (a is not null && ListenAddressParser.Identity(a.Address) == identity && (a.Shared is not null) == shared)
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>The sockets a worker in <paramref name="slot"/> gets, in <c>listen</c> order (fd 3, 4, ...).</summary>
    public IReadOnlyList<Socket> ForSlot(int slot)
    {
        var sockets = new Socket[Count];
        for (var i = 0; i < Count; i++)
        {
            var a = _addresses[i];
            if (a.Shared is not null)
            {
                sockets[i] = a.Shared;
            }
            else if (!a.PerSlot.TryGetValue(slot, out sockets[i]!))
            {
                sockets[i] = a.PerSlot[slot] = Open(a.Address, slot);
            }
        }
        return sockets;
    }

    /// <summary>Every socket with its address, for queue-length metrics. Call on the supervisor loop.</summary>
    public IEnumerable<(ListenAddress Address, Socket Socket)> AllSockets() =>
        _addresses.Where(a => a is not null).SelectMany(a =>
            a.Shared is not null ? [(a.Address, a.Shared)] : a.PerSlot.Values.Select(s => (a.Address, s)));

    /// <summary>
    /// Closes a slot's own sockets (scale-down). Unless net.ipv4.tcp_migrate_req=1, Linux resets the connections
    /// still queued on a closed SO_REUSEPORT socket.
    /// </summary>
    public void ReleaseSlot(int slot)
    {
        foreach (var a in _addresses)
        {
            if (a is not null && a.PerSlot.Remove(slot, out var socket))
            {
                socket.Dispose();
                _source?.Closed(_group.Name, a.Address, slot);
            }
        }
    }

    /// <summary>A passed socket if the source has one for this address and slot, else a freshly bound one.</summary>
    private Socket Open(ListenAddress address, int? slot)
    {
        var socket = _source?.Adopt(_group.Name, address, slot, reusePort: slot is not null) ?? Bind(address, reusePort: slot is not null);
        _source?.Opened(_group.Name, address, slot, socket);
        return socket;
    }

    private static Socket Bind(ListenAddress address, bool reusePort)
    {
        var endPoint = address.EndPoint;
        Socket socket;
        if (address.IsUnix)
        {
            socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            RemoveStaleUnixSocket(UnixPath(address));
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

    private static string UnixPath(ListenAddress address) => address.Text["unix:".Length..];

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

    /// <summary>
    /// Closes every socket on clusterd's way out. Copies kept by the service manager stay there, so the next clusterd
    /// gets the same listeners back; for the same reason a Unix socket's path is kept when a service manager holds it.
    /// </summary>
    public void Dispose() => Close(retire: false);

    /// <summary>Closes every socket for good (group removed, addresses dropped by a reload): the service manager drops its copies too.</summary>
    public void Retire() => Close(retire: true);

    private void Close(bool retire)
    {
        foreach (var a in _addresses)
        {
            if (a is null)
            {
                continue;
            }
            foreach (var (slot, socket) in a.PerSlot)
            {
                socket.Dispose();
                if (retire)
                {
                    _source?.Closed(_group.Name, a.Address, slot);
                }
            }
            a.PerSlot.Clear();
            if (a.Shared is not null)
            {
                a.Shared.Dispose();
                if (retire)
                {
                    _source?.Closed(_group.Name, a.Address, null);
                }
            }
            if (a.Address.IsUnix && (retire || _source is null))
            {
                File.Delete(UnixPath(a.Address));
            }
        }
        Array.Clear(_addresses);
    }

    /// <summary>One address's sockets: the shared one, or one per slot. Moves whole between listener sets on reload.</summary>
    private sealed class AddressSockets(ListenAddress address, Socket? shared)
    {
        public ListenAddress Address { get; } = address;

        public Socket? Shared { get; } = shared;

        public Dictionary<int, Socket> PerSlot { get; } = [];
    }
}
