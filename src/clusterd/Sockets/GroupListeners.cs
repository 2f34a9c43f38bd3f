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

    /// <summary>Told why steering stopped working for an address (it is then off there: replacements share the slot's sockets).</summary>
    public Action<string>? SteeringFailed { get; set; }

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
        listeners.SteeringFailed = previous?.SteeringFailed;
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
                if (a.Unrouted.Count > 0)
                {
                    a.Route(SteeringFailed); // steering is on: a new slot's socket gets nothing until it is in the route
                }
            }
        }
        return sockets;
    }

    /// <summary>Every socket with its address, for queue-length metrics. Call on the supervisor loop.</summary>
    public IEnumerable<(ListenAddress Address, Socket Socket)> AllSockets() =>
        _addresses.Where(a => a is not null).SelectMany(a =>
            a.Shared is not null ? [(a.Address, a.Shared)] : a.PerSlot.Values.Concat(a.Unrouted).Select(s => (a.Address, s)));

    /// <summary>
    /// Sockets of its own for a rolling replacement of <paramref name="slot"/>, which get no connection until
    /// <see cref="Promote"/> routes them (docs/adr/0004); shared ones are shared as ever. Null where new connections
    /// cannot be steered (shared mode, no per-slot TCP address, no BPF here): the replacement then shares the slot's.
    /// </summary>
    public IReadOnlyList<Socket>? OpenForReplacement(int slot)
    {
        if (!_addresses.Any(a => a.CanSteer))
        {
            return null;
        }
        ForSlot(slot); // the slot's routed sockets must exist before their groups are steered to them
        var sockets = new Socket[Count];
        for (var i = 0; i < Count; i++)
        {
            var a = _addresses[i];
            if (a.Shared is not null)
            {
                sockets[i] = a.Shared;
                continue;
            }
            a.Route(SteeringFailed, extraUnrouted: 1); // steer first: the socket bound next joins the group unrouted
            sockets[i] = Bind(a.Address, reusePort: true);
            a.Unrouted.Add(sockets[i]);
        }
        return sockets;
    }

    /// <summary>
    /// Routes the replacement's own sockets as <paramref name="slot"/>'s from now on, and stops routing the slot's
    /// old ones, which are returned: their worker keeps what it has queued and accepted; <see cref="CloseUnrouted"/>
    /// closes them once it is gone. The service manager's copies follow the slot.
    /// </summary>
    public IReadOnlyList<Socket> Promote(int slot, IReadOnlyList<Socket> replacement)
    {
        var retired = new List<Socket>();
        for (var i = 0; i < Count; i++)
        {
            var a = _addresses[i];
            if (a.Shared is not null || !a.Unrouted.Remove(replacement[i]))
            {
                continue;
            }
            if (a.PerSlot.Remove(slot, out var old))
            {
                a.Unrouted.Add(old);
                retired.Add(old);
                _source?.Closed(_group.Name, a.Address, slot);
            }
            a.PerSlot[slot] = replacement[i];
            _source?.Opened(_group.Name, a.Address, slot, replacement[i]);
            a.Route(SteeringFailed);
        }
        return retired;
    }

    /// <summary>
    /// Closes unrouted sockets whose worker is gone (a retired worker's, a replacement's that never became ready).
    /// The kernel moves connections still queued on them to a routed socket instead of resetting them.
    /// </summary>
    public void CloseUnrouted(IReadOnlyList<Socket> sockets)
    {
        foreach (var a in _addresses)
        {
            if (a is null || a.Unrouted.Count == 0)
            {
                continue;
            }
            var closed = false;
            foreach (var socket in sockets)
            {
                if (a.Unrouted.Contains(socket))
                {
                    socket.Dispose(); // while the program that migrates its queue is still attached
                    a.Unrouted.Remove(socket);
                    closed = true;
                }
            }
            if (closed)
            {
                a.Route(SteeringFailed);
            }
        }
    }

    /// <summary>
    /// Closes a slot's own sockets (scale-down). Where steering works they are steered away first, so the kernel moves
    /// the connections still queued on them to the other slots; elsewhere, unless net.ipv4.tcp_migrate_req=1, Linux
    /// resets them.
    /// </summary>
    public void ReleaseSlot(int slot)
    {
        foreach (var a in _addresses)
        {
            if (a is not null && a.PerSlot.Remove(slot, out var socket))
            {
                _source?.Closed(_group.Name, a.Address, slot);
                if (a.CanSteer)
                {
                    a.Unrouted.Add(socket); // steered away first, so that closing it hands its queue on
                    a.Route(SteeringFailed);
                    a.Unrouted.Remove(socket);
                }
                socket.Dispose();
                a.Route(SteeringFailed);
            }
        }
    }

    /// <summary>A passed socket if the source has one for this address and slot, else a freshly bound one.</summary>
    private Socket Open(ListenAddress address, int? slot)
    {
        var adopted = _source?.Adopt(_group.Name, address, slot, reusePort: slot is not null);
        if (adopted is not null && slot is not null && OperatingSystem.IsLinux())
        {
            ReuseportSteering.DetachAny(adopted); // a clusterd killed mid-rollout left its program on the group
        }
        var socket = adopted ?? Bind(address, reusePort: slot is not null);
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
            if (a.Unrouted.Count > 0)
            {
                foreach (var socket in a.Unrouted)
                {
                    socket.Dispose(); // steering is still on: their queues move to the slots' sockets
                }
                a.Unrouted.Clear();
                a.Route(SteeringFailed); // detaches: the group the service manager keeps goes back to the kernel's own choice
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

        /// <summary>The routed sockets: each slot's, kept across that slot's restarts.</summary>
        public Dictionary<int, Socket> PerSlot { get; } = [];

        /// <summary>Open, in the SO_REUSEPORT group, and given no new connection: a replacement's before it is ready, a retired worker's.</summary>
        public HashSet<Socket> Unrouted { get; } = [];

        /// <summary>Attached only while some socket is unrouted; otherwise the kernel picks by hash, as without it.</summary>
        public ReuseportSteering? Steering { get; private set; }

        [System.Runtime.Versioning.SupportedOSPlatformGuard("linux")]
        public bool CanSteer => Shared is null && !_broken && OperatingSystem.IsLinux() && ReuseportSteering.Unavailable is null;

        private bool _broken;

        /// <summary>Steers new connections to the slots' sockets alone while any other is open (or about to be).</summary>
        public void Route(Action<string>? failed, int extraUnrouted = 0)
        {
            if (!CanSteer)
            {
                return;
            }
            try
            {
                Steer(extraUnrouted);
            }
            catch (Exception e) when (e is IOException or SocketException)
            {
                // Never worth a crash: without steering clusterd works as it does where BPF is missing.
                _broken = true;
                if (PerSlot.Values.Concat(Unrouted).FirstOrDefault() is { } anyInGroup)
                {
                    ReuseportSteering.DetachAny(anyInGroup);
                }
                Steering?.Dispose();
                failed?.Invoke($"{Address}: {e.Message}");
            }
        }

        [System.Runtime.Versioning.SupportedOSPlatform("linux")]
        private void Steer(int extraUnrouted)
        {
            if (Unrouted.Count + extraUnrouted == 0 || PerSlot.Count == 0)
            {
                if (PerSlot.Count > 0)
                {
                    Steering?.Detach(PerSlot.Values.First());
                }
                else
                {
                    Steering?.Dispose();
                }
                return;
            }
            Steering ??= new ReuseportSteering();
            Steering.Route(PerSlot.OrderBy(p => p.Key).Select(p => p.Value).ToArray());
        }
    }
}
