using System.Net.Sockets;
using Clusterd.Config;

namespace Clusterd.Sockets;

/// <summary>
/// The sockets of one listen address of a group: <see cref="SharedAddress"/> or <see cref="SteeredAddress"/>. They move
/// whole from one listener set to the next on reload (<see cref="GroupListeners.Rebind"/>), and close through the binder
/// that opened them.
/// </summary>
internal interface IAddressSockets
{
    ListenAddress Address { get; }

    /// <summary>The socket a worker in <paramref name="slot"/> gets for this address, opened now if need be.</summary>
    Socket ForSlot(int slot);

    /// <summary>Every socket open for this address, for the queue-length metrics.</summary>
    IEnumerable<Socket> Sockets { get; }

    /// <summary>How often a socket joined or left <see cref="Sockets"/>: while it stays the same, so do they.</summary>
    int Changes { get; }

    /// <summary>Closes every socket; <paramref name="forGood"/> as in <see cref="IListenerBinder.Close"/>.</summary>
    void Close(bool forGood);
}
