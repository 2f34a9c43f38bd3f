using System.Net.Sockets;
using Clusterd.Config;

namespace Clusterd.Sockets;

/// <summary>
/// One socket for every worker of the group: a <c>shared</c> group's addresses, and every <c>unix:</c> address (Linux
/// has no SO_REUSEPORT for AF_UNIX). Opened at once, so a taken address fails the start, not a spawn.
/// </summary>
internal sealed class SharedAddress(ListenAddress address, IListenerBinder binder) : IAddressSockets
{
    private readonly Socket _socket = binder.Open(address, slot: null);

    public ListenAddress Address { get; } = address;

    public Socket ForSlot(int slot) => _socket;

    public IEnumerable<Socket> Sockets => [_socket];

    public int Changes { get; private set; }

    public void Close(bool forGood)
    {
        Changes++;
        binder.Close(Address, _socket, forGood);
        if (forGood)
        {
            binder.Drop(Address, slot: null);
        }
    }
}
