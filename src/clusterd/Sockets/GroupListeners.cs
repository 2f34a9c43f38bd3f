using System.Net.Sockets;
using Clusterd.Config;

namespace Clusterd.Sockets;

/// <summary>
/// The listening sockets of one group, one <see cref="IAddressSockets"/> per <c>listen</c> address: clusterd owns
/// every one of them for as long as the group listens on the address. In reuseport mode a
/// <see cref="SteeredAddress"/> (a socket per slot, kept across that slot's restarts so connections queued on it wait
/// for the replacement instead of being reset); in shared mode, and for every <c>unix:</c> address, a
/// <see cref="SharedAddress"/>.
/// On reload, <see cref="Rebind"/> hands the sockets of every address that stays over to the new set, so a rolling
/// restart never closes a socket that still has a queue. Touched only on the supervisor loop.
/// </summary>
internal sealed partial class GroupListeners : IDisposable
{
    private readonly GroupConfig _group;
    private readonly IListenerBinder _binder;
    private readonly Action<string>? _steeringFailed;

    /// <summary>
    /// In <c>listen</c> order. An entry is empty once this set is done with the address's sockets: they moved on to
    /// the next set (<see cref="Rebind"/>), or closed (<see cref="Dispose"/>, <see cref="Retire"/>).
    /// </summary>
    private readonly IAddressSockets?[] _addresses;

    private readonly List<(int From, int To)> _taken = [];
    private GroupListeners? _previous;
    private bool _closed;

    private GroupListeners(GroupConfig group, IListenerBinder binder, Action<string>? steeringFailed)
    {
        _group = group;
        _binder = binder;
        _steeringFailed = steeringFailed;
        _addresses = new IAddressSockets?[group.Listen.Count];
    }

    public int Count => _addresses.Length;

    /// <summary>LISTEN_FDNAMES: systemd names fds after their socket unit; clusterd after their group.</summary>
    public string FdNames => string.Join(':', Enumerable.Repeat(_group.Name, Count));

    /// <summary>
    /// Binds the shared sockets and slot 0's now, so a port already taken fails the start, not a spawn.
    /// <paramref name="steeringFailed"/> is told why steering stopped working for an address (it is then off there).
    /// </summary>
    public static GroupListeners Bind(GroupConfig group, ISocketSource? source = null, Action<string>? steeringFailed = null,
        IListenerBinder? binder = null) =>
        Create(group, previous: null, binder ?? new ListenerBinder(group.Name, source), steeringFailed);

    /// <summary>
    /// The listeners for <paramref name="group"/>, taking over from <paramref name="previous"/> the sockets of every
    /// address both configurations share (when the sharing mode is the same). What is not taken stays with
    /// <paramref name="previous"/>, whose disposal closes it. On failure, nothing moves.
    /// </summary>
    public static GroupListeners Rebind(GroupConfig group, GroupListeners previous, ISocketSource? source = null, IListenerBinder? binder = null) =>
        Create(group, previous, binder ?? (source is null ? previous._binder : new ListenerBinder(group.Name, source)), previous._steeringFailed);

    private static GroupListeners Create(GroupConfig group, GroupListeners? previous, IListenerBinder binder, Action<string>? steeringFailed)
    {
        var listeners = new GroupListeners(group, binder, steeringFailed);
        var taken = new List<(int From, int To)>();
        try
        {
            for (var i = 0; i < group.Listen.Count; i++)
            {
                var address = group.Listen[i];
                var shared = group.Sharing == SharingMode.Shared || address.IsUnix;
                var from = previous?.IndexOf(address, shared) ?? -1;
                if (from >= 0)
                {
                    listeners._addresses[i] = previous!._addresses[from];
                    taken.Add((from, i));
                }
                else
                {
                    listeners._addresses[i] = shared ? new SharedAddress(address, binder) : new SteeredAddress(address, binder, steeringFailed);
                }
            }
            if (group.Workers > 0)
            {
                foreach (var i in Enumerable.Range(0, group.Listen.Count).Where(i => !taken.Exists(t => t.To == i)))
                {
                    listeners.Held(i).ForSlot(0); // an address taken over has its sockets (or a vacated slot 0)
                }
            }
        }
        catch
        {
            foreach (var (_, to) in taken)
            {
                listeners._addresses[to] = null; // still previous's
            }
            listeners.Retire();
            throw;
        }
        foreach (var (from, _) in taken)
        {
            previous!._addresses[from] = null;
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
                _addresses[to] = null;
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
            if (_addresses[i] is { } a && ListenAddressParser.Identity(a.Address) == identity && (a is SharedAddress) == shared)
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
            sockets[i] = Held(i).ForSlot(slot);
        }
        return sockets;
    }

    /// <summary>Every socket with its address, for queue-length metrics. Call on the supervisor loop.</summary>
    public IEnumerable<(ListenAddress Address, Socket Socket)> AllSockets() =>
        _addresses.OfType<IAddressSockets>().SelectMany(a => a.Sockets.Select(s => (a.Address, s)));

    /// <summary>Each address this set holds, with its <see cref="IAddressSockets.Changes"/>: while these stay equal, so does <see cref="AllSockets"/>.</summary>
    public IEnumerable<(IAddressSockets Address, int Changes)> SocketVersions() =>
        _addresses.OfType<IAddressSockets>().Select(a => (a, a.Changes));

    /// <summary>
    /// Sockets of its own for a rolling replacement of <paramref name="slot"/>, which get no connection until
    /// <see cref="Promote"/> routes them (docs/adr/0004); shared ones are shared as ever. Null where new connections
    /// cannot be steered (shared mode, no per-slot TCP address, no BPF here): the replacement then shares the slot's.
    /// </summary>
    public IReadOnlyList<Socket>? OpenForReplacement(int slot)
    {
        var addresses = Enumerable.Range(0, Count).Select(Held).ToArray();
        if (!addresses.Any(a => a is SteeredAddress { CanSteer: true }))
        {
            return null;
        }
        return [.. addresses.Select(a => a is SteeredAddress steered ? steered.OpenForReplacement(slot) : a.ForSlot(slot))];
    }

    /// <summary>
    /// Steers new connections away from <paramref name="slot"/>'s sockets, whose worker died, and closes them: what
    /// was queued there moves to the other slots (docs/adr/0004). False where no address could do so (no steering,
    /// no other slot): the queue then waits for the slot's next process, as in shared mode.
    /// </summary>
    public bool Vacate(int slot)
    {
        var vacated = false;
        foreach (var steered in Steered())
        {
            vacated |= steered.Vacate(slot);
        }
        return vacated;
    }

    /// <summary>
    /// Sockets of its own for the next process of a slot <see cref="Vacate"/> emptied: unrouted until
    /// <see cref="Promote"/>, as a rolling replacement's. Null if no address of the slot is vacated.
    /// </summary>
    public IReadOnlyList<Socket>? OpenForVacatedSlot(int slot)
    {
        var addresses = Enumerable.Range(0, Count).Select(Held).ToArray();
        if (!addresses.Any(a => a is SteeredAddress { CanSteer: true } steered && steered.IsVacated(slot)))
        {
            return null;
        }
        return [.. addresses.Select(a => a is SteeredAddress { CanSteer: true } steered && steered.IsVacated(slot) ? steered.OpenForReplacement(slot) : a.ForSlot(slot))];
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
            if (Held(i) is SteeredAddress steered && steered.Promote(slot, replacement[i]) is { } old)
            {
                retired.Add(old);
            }
        }
        return retired;
    }

    /// <summary>
    /// Closes unrouted sockets whose worker is gone (a retired worker's, a replacement's that never became ready).
    /// The kernel moves connections still queued on them to a routed socket instead of resetting them.
    /// </summary>
    public void CloseUnrouted(IReadOnlyList<Socket> sockets)
    {
        foreach (var steered in Steered())
        {
            steered.CloseUnrouted(sockets);
        }
    }

    /// <summary>
    /// Closes a slot's own sockets (scale-down). Where steering works they are steered away first, so the kernel moves
    /// the connections still queued on them to the other slots; elsewhere, unless net.ipv4.tcp_migrate_req=1, Linux
    /// resets them.
    /// </summary>
    public void ReleaseSlot(int slot)
    {
        foreach (var steered in Steered())
        {
            steered.ReleaseSlot(slot);
        }
    }

    /// <summary>
    /// Closes every socket on clusterd's way out. Copies kept by the service manager stay there, so the next clusterd
    /// gets the same listeners back; for the same reason a Unix socket's path is kept when a service manager holds it.
    /// </summary>
    public void Dispose() => Close(forGood: false);

    /// <summary>Closes every socket for good (group removed, addresses dropped by a reload): the service manager drops its copies too.</summary>
    public void Retire() => Close(forGood: true);

    private void Close(bool forGood)
    {
        for (var i = 0; i < _addresses.Length; i++)
        {
            _addresses[i]?.Close(forGood);
            _addresses[i] = null;
        }
        _closed = true;
    }

    private IEnumerable<SteeredAddress> Steered() => _addresses.OfType<SteeredAddress>();

    /// <summary>The sockets of address <paramref name="i"/>; an empty entry means this set is done, and asking it is a bug.</summary>
    private IAddressSockets Held(int i) => _addresses[i] ?? throw new InvalidOperationException(_closed
        ? $"group '{_group.Name}': its listeners are closed; this probably indicates a bug in clusterd"
        : $"group '{_group.Name}': the sockets of {_group.Listen[i]} moved to the next configuration's listeners; this probably indicates a bug in clusterd");
}
