using System.Net.Sockets;
using Clusterd.Supervision.Upgrade;

namespace Clusterd.Sockets;

internal sealed partial class SteeredAddress
{
    public AddressState Export() => new(Address.Text, Shared: false,
        [.. _slots.OrderBy(p => p.Key).Select(p => new SlotSocket(p.Key, GroupListeners.FdOf(p.Value)))],
        [.. _unrouted.Select(GroupListeners.FdOf)],
        [.. _vacated.Order()]);

    /// <summary>
    /// Takes the previous image's sockets and steering state. Its BPF program stays attached to the SO_REUSEPORT group
    /// through the exec (the kernel holds it with the sockets); this image attaches its own in its place.
    /// </summary>
    public void Adopt(IReadOnlyDictionary<int, Socket> slots, IReadOnlyList<Socket> unrouted, IReadOnlyList<int> vacated)
    {
        foreach (var (slot, socket) in slots)
        {
            _slots[slot] = socket;
        }
        _unrouted.UnionWith(unrouted);
        _vacated.UnionWith(vacated);
        Changes++;
        Route();
    }
}
