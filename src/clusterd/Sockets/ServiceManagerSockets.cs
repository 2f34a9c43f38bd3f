using System.Net;
using System.Net.Sockets;
using Clusterd.Config;
using Clusterd.Platform;

namespace Clusterd.Sockets;

/// <summary>
/// Sockets that outlive clusterd. At start it takes what systemd passed (LISTEN_FDS): sockets of a .socket unit,
/// matched to the groups' listen addresses by their local address, and sockets clusterd itself put in systemd's fd
/// store before a restart, matched by name. While running, every socket clusterd opens goes into the fd store
/// (FDSTORE=1, needs FileDescriptorStoreMax= in the unit), so `systemctl restart clusterd` hands the very same
/// listeners, queues and all, to the next clusterd: no connection is refused while it restarts.
/// </summary>
internal sealed class ServiceManagerSockets(IReadOnlyList<(Socket Socket, string Name)> passed, ServiceManagerNotifier? notifier) : ISocketSource
{
    private const string StorePrefix = "clusterd.";
    private readonly List<(Socket Socket, string Name)> _unclaimed = [.. passed];
    private readonly Lock _lock = new();

    /// <summary>The fd-store name of a socket; unique per group, address and slot ("s" for shared). No ':' allowed.</summary>
    public static string StoreName(string group, ListenAddress address, int? slot) =>
        $"{StorePrefix}{group}.{ListenAddressParser.Identity(address).Replace(':', '_')}.{(slot is int s ? s.ToString(System.Globalization.CultureInfo.InvariantCulture) : "s")}";

    public Socket? Adopt(string group, ListenAddress address, int? slot, bool reusePort)
    {
        lock (_lock)
        {
            var name = StoreName(group, address, slot);
            var index = _unclaimed.FindIndex(p => p.Name == name);
            if (index < 0 && slot is null or 0)
            {
                // A socket unit's socket: any name, found by what it listens on. In reuseport mode it can only be
                // slot 0, and only if the unit set ReusePort=yes, or the other slots could not bind beside it.
                index = _unclaimed.FindIndex(p => !p.Name.StartsWith(StorePrefix, StringComparison.Ordinal)
                    && SameAddress(p.Socket, address) && (!reusePort || HasReusePort(p.Socket)));
            }
            if (index < 0)
            {
                return null;
            }
            var socket = _unclaimed[index].Socket;
            _unclaimed.RemoveAt(index);
            return socket;
        }
    }

    public void Opened(string group, ListenAddress address, int? slot, Socket socket) =>
        notifier?.Store(socket, StoreName(group, address, slot));

    public void Closed(string group, ListenAddress address, int? slot) =>
        notifier?.Remove(StoreName(group, address, slot));

    /// <summary>Closes what no group claimed (an address removed from the config meanwhile) and drops it from the store.</summary>
    public IReadOnlyList<string> CloseUnclaimed()
    {
        lock (_lock)
        {
            var names = _unclaimed.Select(p => p.Name).ToArray();
            foreach (var (socket, name) in _unclaimed)
            {
                socket.Dispose();
                if (name.StartsWith(StorePrefix, StringComparison.Ordinal))
                {
                    notifier?.Remove(name);
                }
            }
            _unclaimed.Clear();
            return names;
        }
    }

    private static bool SameAddress(Socket socket, ListenAddress address)
    {
        try
        {
            return (socket.LocalEndPoint, address.EndPoint) switch
            {
                (IPEndPoint a, IPEndPoint b) => a.Equals(b),
                (UnixDomainSocketEndPoint a, UnixDomainSocketEndPoint b) => a.ToString() == b.ToString(),
                _ => false,
            };
        }
        catch (SocketException)
        {
            return false; // not a socket we can read an address from: not a listener of ours
        }
    }

    private static bool HasReusePort(Socket socket)
    {
        Span<byte> value = stackalloc byte[4];
        return socket.GetRawSocketOption(Constants.SolSocket, Constants.SoReusePort, value) == 4 && BitConverter.ToInt32(value) != 0;
    }
}
