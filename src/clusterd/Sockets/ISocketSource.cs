using System.Net.Sockets;
using Clusterd.Config;

namespace Clusterd.Sockets;

/// <summary>
/// Where listening sockets come from besides bind(): the service manager (systemd socket units, its fd store,
/// launchd). <see cref="ListenerBinder"/> asks it before binding and tells it what clusterd opened and closed.
/// </summary>
internal interface ISocketSource
{
    /// <summary>A passed socket for this address (and slot, in reuseport mode), or null to bind one.</summary>
    Socket? Adopt(string group, ListenAddress address, int? slot, bool reusePort);

    /// <summary>clusterd opened (or adopted) this socket and keeps it: the source may keep a copy to pass back later.</summary>
    void Opened(string group, ListenAddress address, int? slot, Socket socket);

    /// <summary>clusterd closed it for good (scale-down, address removed): any copy kept elsewhere must go too.</summary>
    void Closed(string group, ListenAddress address, int? slot);

    /// <summary>After the groups are bound: closes passed sockets no group claimed, and returns their names.</summary>
    IReadOnlyList<string> CloseUnclaimed();
}
