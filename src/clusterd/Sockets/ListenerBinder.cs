using System.Net.Sockets;
using Clusterd.Config;
using Clusterd.Platform;

namespace Clusterd.Sockets;

/// <summary>
/// What a group's listeners ask of the world outside them: sockets adopted from the service manager or bound, the
/// copies the service manager keeps, and steering programs. Kestrel's replaceable socket factory, widened to
/// everything a listener set does to the kernel and the service manager: <see cref="ListenerBinder"/> does it for
/// real, and unit tests give one that binds nothing.
/// </summary>
internal interface IListenerBinder
{
    /// <summary>
    /// The service manager's socket for this address (and slot, in reuseport mode; null for a shared socket) if it
    /// passed one, else one bound now. Either way the service manager keeps a copy from now on.
    /// </summary>
    Socket Open(ListenAddress address, int? slot);

    /// <summary>One more socket in the SO_REUSEPORT group of a TCP address, bound now; nobody keeps a copy.</summary>
    Socket BindUnrouted(ListenAddress address);

    /// <summary>From now on <paramref name="socket"/> is the slot's: the service manager's copy follows.</summary>
    void Keep(ListenAddress address, int? slot, Socket socket);

    /// <summary>The slot's socket is not clusterd's any more: the service manager drops its copy.</summary>
    void Drop(ListenAddress address, int? slot);

    /// <summary>
    /// Closes <paramref name="socket"/>. <paramref name="forGood"/>: clusterd no longer listens on the address; else
    /// clusterd is on its way out, and a copy the service manager keeps serves the next clusterd.
    /// </summary>
    void Close(ListenAddress address, Socket socket, bool forGood);

    /// <summary>Whether connections to a TCP address's SO_REUSEPORT group can be steered here (docs/adr/0004).</summary>
    bool CanSteer { get; }

    /// <summary>A steering program holder for one SO_REUSEPORT group; only where <see cref="CanSteer"/>.</summary>
    IReuseportSteering NewSteering();
}

/// <summary>
/// The real <see cref="IListenerBinder"/> of one group: bind(2), the service manager's sockets, BPF. A <c>unix:</c>
/// path is claimed before bind (<see cref="SocketFile.Claim"/>: only a stale socket file is removed; a regular file, a
/// symbolic link, a live socket are refused with an error naming the path) and removed at close only if it still is
/// the socket bound there: clusterd never deletes or follows what it did not create.
/// </summary>
internal sealed class ListenerBinder(string group, ISocketSource? source) : IListenerBinder
{
    // As deep as the kernel allows (net.core.somaxconn caps it): a queue that outlives a worker crash should be long.
    private const int Backlog = 4096;

    /// <summary>The socket files bound here, as lstat saw them right after bind(2).</summary>
    private readonly Dictionary<Socket, FileStatus> _files = [];

    public Socket Open(ListenAddress address, int? slot)
    {
        var adopted = source?.Adopt(group, address, slot, reusePort: slot is not null);
        if (adopted is not null && slot is not null && OperatingSystem.IsLinux())
        {
            ReuseportSteering.DetachAny(adopted); // a clusterd killed mid-rollout left its program on the group
        }
        var socket = adopted ?? Bind(address, reusePort: slot is not null);
        source?.Opened(group, address, slot, socket);
        return socket;
    }

    public Socket BindUnrouted(ListenAddress address) => Bind(address, reusePort: true);

    public void Keep(ListenAddress address, int? slot, Socket socket) => source?.Opened(group, address, slot, socket);

    public void Drop(ListenAddress address, int? slot) => source?.Closed(group, address, slot);

    public void Close(ListenAddress address, Socket socket, bool forGood)
    {
        socket.Dispose();
        // A Unix socket's path stays while a service manager holds the socket: the next clusterd gets it back. An
        // adopted socket's file is the service manager's (a socket unit's) or a past clusterd's: it stays too, and a
        // later bind there claims it as stale.
        if (_files.Remove(socket, out var bound) && (forGood || source is null))
        {
            var path = UnixPath(address);
            if (FileStatus.Of(path).IsSameFile(bound))
            {
                File.Delete(path);
            }
        }
    }

    /// <summary>
    /// What binding would refuse about the <c>unix:</c> listen paths of <paramref name="config"/> (a file, a link),
    /// found without changing anything: for <c>clusterd --check-config</c>.
    /// </summary>
    public static IReadOnlyList<string> Check(ClusterConfig config) =>
        [.. config.Groups.SelectMany(g => g.Listen.Where(a => a.IsUnix).Select(a => SocketFile.Check(UnixPath(a), What(g.Name)))).OfType<string>()];

    public bool CanSteer => OperatingSystem.IsLinux() && ReuseportSteering.Unavailable is null;

    public IReuseportSteering NewSteering() =>
        OperatingSystem.IsLinux() ? new ReuseportSteering() : throw new PlatformNotSupportedException("connection steering needs Linux");

    private Socket Bind(ListenAddress address, bool reusePort)
    {
        var endPoint = address.EndPoint;
        Socket socket;
        if (address.IsUnix)
        {
            SocketFile.Claim(UnixPath(address), What(group));
            socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
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
            if (address.IsUnix)
            {
                var path = UnixPath(address);
                UnixSocketBind.Bind(socket, path);
                _files[socket] = FileStatus.Of(path);
            }
            else
            {
                socket.Bind(endPoint);
            }
            socket.Listen(Backlog);
            return socket;
        }
        catch (SocketException e)
        {
            Close(address, socket, forGood: true);
            throw new SocketException((int)e.SocketErrorCode, $"cannot listen on {address}: {e.Message}");
        }
        catch (IOException e)
        {
            Close(address, socket, forGood: true);
            throw new IOException($"cannot listen on {address}: {e.Message}", e);
        }
    }

    private static string UnixPath(ListenAddress address) => address.Text["unix:".Length..];

    private static string What(string group) => $"group '{group}': listen path";
}
