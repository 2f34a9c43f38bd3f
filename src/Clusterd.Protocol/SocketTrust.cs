using System.Net.Sockets;
using Clusterd.Protocol.Platform;

namespace Clusterd.Protocol;

/// <summary>
/// Whom a client talks to. What it sends, and all it believes of the answers, goes to whoever listens at the path, so
/// before sending anything it makes sure that is root or the user itself: the socket file must belong to one of them
/// (lstat: a symbolic link someone planted is not followed), and so must the process that listens behind it (the
/// kernel's word, SO_PEERCRED), which closes the gap between looking at the file and connecting to it.
/// </summary>
public static class SocketTrust
{
    /// <summary>The user this process acts for (its real uid).</summary>
    public static uint OwnUid { get; } = OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() ? Interop.getuid() : 0;

    /// <summary>Refuses a socket path that is a link or belongs to someone else. A path that cannot be read is left to connect() to report.</summary>
    /// <exception cref="UntrustedSocketException">The path is a symbolic link, or its socket belongs to another user.</exception>
    public static void CheckFile(string path)
    {
        if (PathStatus.Read(path, out var status) != 0)
        {
            return;
        }
        if (status.Type == PathStatus.Symlink)
        {
            throw new UntrustedSocketException(
                "it is a symbolic link, and clusterctl does not follow links to the control socket; give the socket's own path (see readlink -f)");
        }
        if (status.Type == PathStatus.Socket && !Trusted(status.Uid))
        {
            throw new UntrustedSocketException(
                $"the socket belongs to uid {status.Uid}, not to root or to you (uid {OwnUid}), so it may not be clusterd's; check the path, and remove the file if you do not know it");
        }
    }

    /// <summary>Refuses a connection whose listening end runs as another user. Where the OS cannot say (not Linux or macOS), the file check stands alone.</summary>
    /// <exception cref="UntrustedSocketException">The peer is neither root nor this user.</exception>
    public static void CheckPeer(Socket socket) => CheckPeerUid(PeerUid(socket));

    /// <inheritdoc cref="CheckPeer(Socket)"/>
    public static void CheckPeer(LocalSocketStream stream) => CheckPeerUid(stream.PeerUid());

    private static void CheckPeerUid(uint? peerUid)
    {
        if (peerUid is { } uid && !Trusted(uid))
        {
            throw new UntrustedSocketException(
                $"the process listening there runs as uid {uid}, not as root or as you (uid {OwnUid}), so it may not be clusterd; check the path");
        }
    }

    private static bool Trusted(uint uid) => uid == 0 || uid == OwnUid;

    private static uint? PeerUid(Socket socket)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return null;
        }
        var (level, name, size) = Interop.PeerCredentials;
        Span<byte> credentials = stackalloc byte[size];
        socket.GetRawSocketOption(level, name, credentials);
        return Interop.PeerUid(credentials);
    }
}

/// <summary>A control socket the client will not talk to; the message says why and what to check.</summary>
public sealed class UntrustedSocketException(string message) : IOException(message);
