using System.Net.Sockets;
using Clusterd.Config;
using Clusterd.Platform;
using Microsoft.Extensions.Logging;

namespace Clusterd.Control;

/// <summary>
/// The control socket across an in-place upgrade (docs/adr/0008): the listening socket goes by fd, so a client that
/// connects during the exec waits in its backlog and is answered by the new image; none is refused.
/// </summary>
internal sealed partial class ControlServer
{
    private bool _adopted;

    /// <summary>The listening socket's fd.</summary>
    public int ListenerFd => (int)_listener.Handle;

    /// <summary>Stops accepting (connections wait in the backlog); those accepted already are served on.</summary>
    public async Task StopAcceptingAsync()
    {
        if (_accepting is not null)
        {
            await _accepting.CancelAsync();
        }
        await _acceptLoop;
    }

    /// <summary>The listening socket the previous image bound at <paramref name="config"/>'s path: this process owns the fd now.</summary>
    public static ControlServer Adopt(int fd, ControlConfig config, CommandDispatcher dispatcher, TimeProvider time, ILogger logger)
    {
        var listener = new Socket(new SafeSocketHandle(fd, ownsHandle: true)); // ours: closed with the server
        Descriptors.SetInheritable(listener.SafeHandle, inheritable: false);
        return new ControlServer(PathOf(config), listener, dispatcher, ControlAccess.From(config), time, logger) { _adopted = true };
    }

    /// <summary>
    /// .NET removes the socket file only of a socket it bound itself; an adopted one's is clusterd's too (an earlier
    /// image made it), and goes the same way, if it still is a socket.
    /// </summary>
    private void RemoveAdoptedFile()
    {
        if (_adopted && FileStatus.Of(Path).Kind == FileKind.Socket)
        {
            File.Delete(Path);
        }
    }
}
