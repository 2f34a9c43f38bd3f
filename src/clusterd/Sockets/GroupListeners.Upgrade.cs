using System.Net.Sockets;
using Clusterd.Config;
using Clusterd.Supervision.Upgrade;

namespace Clusterd.Sockets;

/// <summary>
/// A group's listeners across an in-place upgrade (docs/adr/0008): every socket by fd number, with the steering
/// state of its address. Connections arriving during the exec wait in the sockets' accept queues: the workers keep
/// accepting from their copies throughout.
/// </summary>
internal sealed partial class GroupListeners
{
    public IReadOnlyList<AddressState> Export() => [.. Enumerable.Range(0, Count).Select(i => Held(i) switch
    {
        SteeredAddress steered => steered.Export(),
        var shared => new AddressState(shared.Address.Text, Shared: true,
            [new SlotSocket(AddressState.SharedSlot, FdOf(shared.ForSlot(0)))], Unrouted: [], Vacated: []),
    })];

    /// <summary>
    /// The listeners of <paramref name="group"/> as the previous image held them; <paramref name="socketOf"/> turns an
    /// fd of the state into the one <see cref="Socket"/> this process keeps for it.
    /// </summary>
    /// <exception cref="UpgradeStateException">The state does not list the group's addresses in its config's order.</exception>
    public static GroupListeners Adopt(GroupConfig group, IReadOnlyList<AddressState> state, Func<int, Socket> socketOf,
        ISocketSource? source, Action<string>? steeringFailed)
    {
        if (state.Count != group.Listen.Count || state.Where((a, i) => a.Address != group.Listen[i].Text).Any())
        {
            throw new UpgradeStateException($"group '{group.Name}': the state's listeners ({string.Join(", ", state.Select(a => a.Address))}) are not the config's");
        }
        var adopted = new Dictionary<(string, int?), Socket>();
        foreach (var address in state)
        {
            foreach (var slot in address.Slots)
            {
                adopted[(address.Address, address.Shared ? null : slot.Slot)] = socketOf(slot.Fd);
            }
        }
        var binder = new AdoptingBinder(new ListenerBinder(group.Name, source), adopted);
        var listeners = new GroupListeners(group, binder, steeringFailed);
        for (var i = 0; i < state.Count; i++)
        {
            var address = group.Listen[i];
            if (state[i].Shared)
            {
                listeners._addresses[i] = new SharedAddress(address, binder); // its Open takes the adopted socket
                continue;
            }
            var steered = new SteeredAddress(address, binder, steeringFailed);
            steered.Adopt(state[i].Slots.ToDictionary(s => s.Slot, s => adopted[(address.Text, s.Slot)]),
                [.. state[i].Unrouted.Select(socketOf)], state[i].Vacated);
            listeners._addresses[i] = steered;
        }
        return listeners;
    }

    internal static int FdOf(Socket socket) => (int)socket.Handle;

    /// <summary>Opens what the previous image held from the state, and anything else as the real binder does.</summary>
    private sealed class AdoptingBinder(IListenerBinder inner, Dictionary<(string, int?), Socket> adopted) : IListenerBinder
    {
        public Socket Open(ListenAddress address, int? slot) =>
            adopted.Remove((address.Text, slot), out var socket) ? socket : inner.Open(address, slot);

        public Socket BindUnrouted(ListenAddress address) => inner.BindUnrouted(address);

        public void Keep(ListenAddress address, int? slot, Socket socket) => inner.Keep(address, slot, socket);

        public void Drop(ListenAddress address, int? slot) => inner.Drop(address, slot);

        public void Close(ListenAddress address, Socket socket, bool forGood) => inner.Close(address, socket, forGood);

        public bool CanSteer => inner.CanSteer;

        public Platform.IReuseportSteering NewSteering() => inner.NewSteering();
    }
}
