using System.Net.Sockets;
using System.Runtime.Versioning;
using Clusterd.Platform;
using Microsoft.Extensions.Logging;

namespace Clusterd.Readiness;

/// <summary>
/// The notify socket across an in-place upgrade (docs/adr/0008): reading stops before the state is taken, so every
/// message is either handled by the old image or still queued in the socket for the new one; the socket goes by fd.
/// </summary>
internal sealed partial class NotifySocket
{
    /// <summary>The socket's fd, or null where it is no kernel socket (tests).</summary>
    public int? Fd => OperatingSystem.IsLinux() && _source is KernelSource kernel ? (int)kernel.Socket.Handle : null;

    /// <summary>The uid the socket file was given (null: clusterd's own).</summary>
    public uint? Owner => _owner;

    /// <summary>
    /// Stops taking datagrams off the socket, and waits for the reader to have stopped (on the supervisor loop, which
    /// then drains the inbox: nothing read is left unhandled when the state is taken).
    /// </summary>
    public void PauseReceiving()
    {
        _stop.Cancel();
        // A blocking wait on the loop, for a reader that only has to see its cancellation: the loop is about to exec.
        _receiving.Wait(TimeSpan.FromSeconds(5));
    }

    /// <summary>Reads again: the upgrade did not happen.</summary>
    public void ResumeReceiving()
    {
        _stop.Dispose();
        _stop = new CancellationTokenSource();
        _receiving = ReceiveLoopAsync();
    }

    /// <summary>The socket the previous image bound at <paramref name="path"/>: from now on this process owns the fd.</summary>
    [SupportedOSPlatform("linux")]
    public static NotifySocket Adopt(int fd, string path, uint? owner, string group, Action<NotifySocket> wake, ILogger logger, TimeProvider time)
    {
        var socket = new Socket(new SafeSocketHandle(fd, ownsHandle: true)); // ours now: closed when the group goes
        Descriptors.SetInheritable(socket.SafeHandle, inheritable: false);
        return new NotifySocket(path, owner, new KernelSource(socket), s => new NotifyInbox(group, logger, time, ProcessSession.Of, () => wake(s)), logger, time);
    }
}
