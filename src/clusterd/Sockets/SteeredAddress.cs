using System.Net.Sockets;
using Clusterd.Config;
using Clusterd.Platform;

namespace Clusterd.Sockets;

/// <summary>
/// One TCP address of a <c>reuseport</c> group: a socket per slot, all in one SO_REUSEPORT group, each kept across
/// its slot's restarts so that connections queued on it wait for the replacement instead of being reset; and the
/// steering that decides which of them get new connections (docs/adr/0004).
/// A socket is <em>routed</em> (a slot's) or <em>unrouted</em>: open, in the group, and given no new connection (a
/// rolling replacement's before it is ready, a retired worker's). A slot whose worker died is <em>vacated</em>
/// (<see cref="Vacate"/>): its socket is steered away and closed, so what was queued there moves to the other slots,
/// and its next process gets an unrouted socket of its own until <see cref="Promote"/>. A BPF program is attached only
/// while some socket is unrouted or some slot vacated; otherwise the kernel picks by hash, as without it. Where steering is unavailable, or broke (reported once
/// through <paramref name="steeringFailed"/>), everything here works the same minus the steering.
/// </summary>
internal sealed partial class SteeredAddress(ListenAddress address, IListenerBinder binder, Action<string>? steeringFailed) : IAddressSockets
{
    /// <summary>The routed sockets: each slot's.</summary>
    private readonly Dictionary<int, Socket> _slots = [];

    private readonly HashSet<Socket> _unrouted = [];

    /// <summary>Slots whose routed socket was closed when their worker died, until a new one is promoted.</summary>
    private readonly HashSet<int> _vacated = [];

    /// <summary>Set while a program is attached.</summary>
    private IReuseportSteering? _steering;

    private bool _broken;

    public ListenAddress Address { get; } = address;

    public bool CanSteer => !_broken && binder.CanSteer;

    public IEnumerable<Socket> Sockets => _slots.Values.Concat(_unrouted);

    public int Changes { get; private set; }

    public Socket ForSlot(int slot)
    {
        if (!_slots.TryGetValue(slot, out var socket))
        {
            socket = _slots[slot] = binder.Open(Address, slot);
            Changes++;
            _vacated.Remove(slot); // its process takes a routed socket after all (steering broke meanwhile)
            if (_unrouted.Count > 0 || _vacated.Count > 0)
            {
                Route(); // steering is on: a new slot's socket gets nothing until it is in the route
            }
        }
        return socket;
    }

    /// <summary>A socket of its own for a rolling replacement of <paramref name="slot"/>: unrouted until <see cref="Promote"/>.</summary>
    public Socket OpenForReplacement(int slot)
    {
        if (!_vacated.Contains(slot))
        {
            ForSlot(slot); // the slot's routed socket must exist before the group is steered to it
        }
        Route(extraUnrouted: 1); // steer first: the socket bound next joins the group unrouted
        var socket = binder.BindUnrouted(Address);
        _unrouted.Add(socket);
        Changes++;
        return socket;
    }

    /// <summary>
    /// Routes <paramref name="replacement"/> (from <see cref="OpenForReplacement"/>) as the slot's socket, and stops
    /// routing the slot's old one, which is returned (null if <paramref name="replacement"/> is not this address's).
    /// </summary>
    public Socket? Promote(int slot, Socket replacement)
    {
        if (!_unrouted.Remove(replacement))
        {
            return null;
        }
        if (_slots.Remove(slot, out var old))
        {
            _unrouted.Add(old);
            binder.Drop(Address, slot);
        }
        _vacated.Remove(slot);
        _slots[slot] = replacement;
        binder.Keep(Address, slot, replacement);
        Route();
        return old;
    }

    /// <summary>
    /// Steers new connections away from <paramref name="slot"/>'s socket and closes it, so that the connections queued
    /// on it move to the other slots' sockets instead of waiting for the slot's next process; that process gets a
    /// socket of <see cref="OpenForReplacement"/>. Does nothing, and says so, where steering does not work or no other
    /// slot has a routed socket here.
    /// </summary>
    public bool Vacate(int slot)
    {
        if (!CanSteer || _slots.Count < 2 || !_slots.Remove(slot, out var socket))
        {
            return false;
        }
        _vacated.Add(slot);
        _unrouted.Add(socket);
        Route();
        _unrouted.Remove(socket);
        if (!CanSteer)
        {
            // Steering broke just now: the slot keeps its socket, and its queue waits for the next process as before.
            _vacated.Remove(slot);
            _slots[slot] = socket;
            return false;
        }
        binder.Drop(Address, slot); // the service manager's copy would keep the socket, and its queue, alive
        // Closed while the program routes the other slots alone: the kernel asks it where each queued connection goes.
        binder.Close(Address, socket, forGood: true);
        Changes++;
        return true;
    }

    public bool IsVacated(int slot) => _vacated.Contains(slot);

    /// <summary>Closes those of <paramref name="sockets"/> that are unrouted here; their queues move to routed sockets.</summary>
    public void CloseUnrouted(IReadOnlyList<Socket> sockets)
    {
        var closed = false;
        foreach (var socket in sockets)
        {
            if (_unrouted.Remove(socket))
            {
                binder.Close(Address, socket, forGood: true); // while the program that migrates its queue is still attached
                closed = true;
                Changes++;
            }
        }
        if (closed)
        {
            Route();
        }
    }

    /// <summary>Closes a slot's socket (scale-down), steered away first where steering works, so its queue moves on.</summary>
    public void ReleaseSlot(int slot)
    {
        if (_vacated.Remove(slot))
        {
            Route();
        }
        if (!_slots.Remove(slot, out var socket))
        {
            return;
        }
        binder.Drop(Address, slot);
        if (CanSteer)
        {
            _unrouted.Add(socket); // steered away first, so that closing it hands its queue on
            Route();
            _unrouted.Remove(socket);
        }
        binder.Close(Address, socket, forGood: true);
        Changes++;
        Route();
    }

    public void Close(bool forGood)
    {
        Changes++;
        if (_unrouted.Count > 0 || _vacated.Count > 0)
        {
            foreach (var socket in _unrouted)
            {
                binder.Close(Address, socket, forGood: true); // steering is still on: their queues move to the slots' sockets
            }
            _unrouted.Clear();
            _vacated.Clear();
            Route(); // detaches: the group the service manager keeps goes back to the kernel's own choice
        }
        foreach (var (slot, socket) in _slots)
        {
            binder.Close(Address, socket, forGood);
            if (forGood)
            {
                binder.Drop(Address, slot);
            }
        }
        _slots.Clear();
    }

    /// <summary>Steers new connections to the slots' sockets alone while any other is open (or about to be).</summary>
    private void Route(int extraUnrouted = 0)
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
            if (_steering is not null && Sockets.FirstOrDefault() is { } anyInGroup)
            {
                _steering.Detach(anyInGroup);
            }
            _steering?.Dispose();
            _steering = null;
            steeringFailed?.Invoke($"{Address}: {e.Message}");
        }
    }

    private void Steer(int extraUnrouted)
    {
        if (_unrouted.Count + _vacated.Count + extraUnrouted == 0 || _slots.Count == 0)
        {
            if (_steering is not null && _slots.Count > 0)
            {
                _steering.Detach(_slots.Values.First());
            }
            _steering?.Dispose();
            _steering = null;
            return;
        }
        _steering ??= binder.NewSteering();
        _steering.Route([.. _slots.OrderBy(p => p.Key).Select(p => p.Value)]);
    }
}
